/** One tile of the mosaic: a muted live video played by a TilePlayer, its caption and a state badge. */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { StartQueue } from '../player/start-queue.js';
import { TilePlayer, type TileStatus } from '../player/tile-player.js';
import { useServices } from '../state/app-context.js';
import { mosaicNews, type MosaicSource } from '../state/mosaic.js';

/** `/hls/<feed>/<path>/index.m3u8`, each segment escaped (they are `[A-Za-z0-9._-]` already, as the core requires). */
export function playlistUrl(key: string): string {
  return `/hls/${key.split('/').map(encodeURIComponent).join('/')}/index.m3u8`;
}

/** What a tile is given. */
export interface MosaicTileProps {
  source: MosaicSource;
  queue: StartQueue;
  /** Shown alone (single-tile view). */
  alone: boolean;
  onToggleAlone(key: string): void;
}

/** A tile; its player lives as long as the tile and its stream key (a new key = a new player). */
export function MosaicTile({ source, queue, alone, onToggleAlone }: MosaicTileProps) {
  const { platform, feed } = useServices();
  const videoRef = useRef<HTMLVideoElement>(null);
  const playerRef = useRef<TilePlayer | null>(null);
  const onlineRef = useRef(source.online);
  const [status, setStatus] = useState<TileStatus>({ state: 'starting', detail: null });
  const { key } = source;

  useEffect(() => {
    onlineRef.current = source.online;
  }, [source.online]);

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    const player = new TilePlayer({
      video,
      src: playlistUrl(key),
      queue,
      onStatus: setStatus,
      renewSession: () => platform.renewSession(),
      online: () => onlineRef.current,
    });
    playerRef.current = player;
    player.start();
    return () => {
      playerRef.current = null;
      player.destroy();
    };
  }, [key, queue, platform]);

  // A stream that comes online is tried at once rather than at the end of its backoff.
  useEffect(
    () =>
      feed.subscribe((now, before) => {
        if (mosaicNews(now.events, before.events).online.includes(key)) playerRef.current?.retryNow();
      }),
    [feed, key],
  );

  const toggle = () => onToggleAlone(key);
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      toggle();
    }
  };
  const feedLabel = source.feed.toUpperCase();

  return (
    <figure
      className={`tile tile-${status.state}`}
      data-stream={key}
      data-state={status.state}
      role="button"
      tabIndex={0}
      aria-label={`${source.camera}, ${source.site}: ${alone ? 'back to the grid' : 'show alone'}`}
      onClick={toggle}
      onKeyDown={onKey}
    >
      <video ref={videoRef} muted autoPlay playsInline disablePictureInPicture />
      <span className={`badge badge-${status.state}`} data-testid="tile-state">
        {status.state}
      </span>
      {status.detail && <span className="tile-detail">{status.detail}</span>}
      <figcaption>
        <span className="tile-camera">{source.camera}</span>
        <span className="tile-site">{source.site}</span>
        <span
          className={source.fallback ? 'chip feed-chip fallback' : 'chip feed-chip'}
          title={
            source.fallback
              ? `no ${source.feed === 'f1' ? 'F2' : 'F1'} for this camera now: showing ${feedLabel}`
              : undefined
          }
        >
          {feedLabel}
        </span>
      </figcaption>
    </figure>
  );
}
