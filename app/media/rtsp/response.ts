/** Serialization of RTSP responses and interleaved frames. */

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  451: 'Parameter Not Understood',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  459: 'Aggregate Operation Not Allowed',
  461: 'Unsupported Transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'RTSP Version Not Supported',
};

/** A response to send; header values that are arrays become repeated header lines. */
export interface RtspResponse {
  status: number;
  headers?: Record<string, string | string[] | undefined>;
  body?: Buffer | string;
}

/** Serializes a response; `cseq` is echoed when the request had one. */
export function formatResponse(res: RtspResponse, cseq: string | undefined): Buffer {
  const lines = [`RTSP/1.0 ${res.status} ${REASONS[res.status] ?? 'Unknown'}`];
  // Echo only a well-formed CSeq: a hostile one could otherwise inject header lines into our answer.
  if (cseq !== undefined && /^\d{1,10}$/.test(cseq)) lines.push(`CSeq: ${cseq}`);
  lines.push('Server: Cupola');
  for (const [name, value] of Object.entries(res.headers ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  const body = res.body === undefined ? undefined : Buffer.isBuffer(res.body) ? res.body : Buffer.from(res.body);
  if (body && body.length > 0) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return body && body.length > 0 ? Buffer.concat([head, body]) : head;
}
