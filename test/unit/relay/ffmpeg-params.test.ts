/** ffmpeg_params: split without a shell, then the allow-list. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFfmpegParams, tokenize } from '../../../app/relay/ffmpeg-params.js';
import { jobArgs } from '../../../app/relay/job-args.js';

test('quotes group words and nothing is expanded', () => {
  assert.deepEqual(tokenize(`-vf "scale=w=1280:h=-2,fps=25" -b:v '2500k'`), {
    ok: true,
    tokens: ['-vf', 'scale=w=1280:h=-2,fps=25', '-b:v', '2500k'],
  });
  assert.deepEqual(tokenize('-b:v $HOME'), { ok: true, tokens: ['-b:v', '$HOME'] });
  assert.deepEqual(tokenize('-vf "scale'), { ok: false, error: 'unbalanced "' });
});

test('codec, filter and rate options pass', () => {
  const r = parseFfmpegParams(
    '-c:v libx264 -preset veryfast -tune zerolatency -b:v 2500k -maxrate 3M -bufsize 5000k -g 50 -r 25 ' +
      "-vf scale=-2:720,fps=25 -c:a aac -b:a 128k -ar 44100 -ac 2 -force_key_frames 'expr:gte(t,n_forced*2)'",
  );
  assert.equal(r.ok, true, JSON.stringify(r));
  const an = parseFfmpegParams('-an -c:v copy');
  assert.deepEqual(an, { ok: true, args: ['-an', '-c:v', 'copy'] });
});

test('outputs, inputs, protocols and unknown options are refused, each with its reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['-f mp4 /tmp/out.mp4', /"-f" is not allowed: the output format is fixed/],
    ['-c:v copy /tmp/out.flv', /"\/tmp\/out.flv" is not allowed: a bare argument would be an output file/],
    ['-i /etc/passwd', /"-i" is not allowed: a job has exactly one input/],
    ['-i rtsp://other/cam', /"-i" is not allowed/],
    ['-y', /"-y" is not allowed/],
    ['-filter_complex [0:v]null', /"-filter_complex" is not allowed/],
    ['-vf movie=/etc/passwd', /filter "movie" is not allowed/],
    ['-vf drawtext=textfile=/etc/shadow', /filter "drawtext" is not allowed/],
    ["-vf 'scale=1:1;[in]null'", /plain chain of filters/],
    ['-b:v file:/etc/passwd', /no URLs or protocols/],
    ['-c:v tcp://evil:1', /no URLs or protocols/],
    ['-c:v rawvideo', /expected one of copy, libx264/],
    ['-x264-params dump_yuv=/tmp/y', /encoder parameter strings can name files/],
    ['-report', /"-report" is not allowed: a job writes no files/],
    ['-progress http://evil/', /"-progress" is not allowed/],
    ['-map 1:v', /"-map" is not allowed/],
    ['-loglevel quiet', /"-loglevel" is not an allowed option/],
    ['-b:v', /"-b:v" needs a value/],
    ['-b:x:0 1k', /not a stream specifier/],
    ['-s 1280x720; rm -rf /', /expected a size/],
  ];
  for (const [params, why] of cases) {
    const r = parseFfmpegParams(params);
    assert.equal(r.ok, false, params);
    if (!r.ok) {
      assert.match(r.errors.join('; '), why, params);
      assert.ok(r.errors.every((e) => e.startsWith('ffmpeg_params: ')));
    }
  }
});

test('a job argv: one input, one output, the preset or the params choose the codecs', () => {
  const base = { rtspUrl: 'rtsp://cam/x', rtmpUrl: 'rtmp://h/live/x', params: null };
  const h264 = { video: { codec: 'h264', width: 640, height: 360 }, audio: { codec: 'aac' } };
  const hevc = { video: { codec: 'hevc', width: 640, height: 360 }, audio: { codec: 'pcm_alaw' } };
  const copy = jobArgs({ ...base, preset: 'auto', source: h264 });
  assert.deepEqual(copy.slice(copy.indexOf('-map')), [
    ...['-map', '0:v:0', '-map', '0:a:0?', '-c:v', 'copy', '-c:a', 'copy'],
    ...['-f', 'flv', '-flvflags', 'no_duration_filesize', 'rtmp://h/live/x'],
  ]);
  const enc = jobArgs({ ...base, preset: 'auto', source: hevc });
  assert.ok(enc.includes('libx264') && enc.includes('veryfast') && enc.includes('aac'));
  assert.equal(enc.filter((a) => a === '-i').length, 1);
  const unknown = jobArgs({ ...base, preset: 'auto', source: null });
  assert.ok(unknown.join(' ').includes('-c:v copy -c:a aac'));
  const params = parseFfmpegParams('-c:v libx264 -b:v 1M -an');
  assert.ok(params.ok);
  const custom = jobArgs({ ...base, preset: 'auto', source: h264, params: params.args });
  assert.deepEqual(custom.slice(custom.indexOf('-map')), [
    ...['-map', '0:v:0', '-c:v', 'libx264', '-b:v', '1M', '-an'],
    ...['-f', 'flv', '-flvflags', 'no_duration_filesize', 'rtmp://h/live/x'],
  ]);
});
