/** Camera registry shapes shared by the core, the API and the renderer. */

/** How a camera's stream reaches the slave. */
export type CameraSourceKind = 'rtmp-push' | 'rtsp-pull';

/** A camera as the API returns it: credentials are never included in full. */
export interface Camera {
  /** Slug; also the stream path (`rtmp://host/live/<id>`, `rtsp://host:8554/<id>`). */
  id: string;
  name: string;
  site: string;
  enabled: boolean;
  source:
    | { kind: 'rtmp-push'; keyRotatedAt: string }
    | { kind: 'rtsp-pull'; url: string; user: string | null; hasPassword: boolean };
  createdAt: string;
  updatedAt: string;
}

/** Returned once when a push camera is created or its key rotated; the key is not stored in clear. */
export interface PublishKeyGrant {
  cameraId: string;
  publishKey: string;
  /** `rtmp://<host>:<port>/live/<id>?key=<key>` with the host the request came to. */
  publishUrl: string;
}

/** A compressor's claim on transcoding a camera of a slave (`/api/v1/leases`). */
export interface CameraLease {
  cameraId: string;
  /** Chosen by the compressor (its node name, typically); the lease is bound to the API token that claimed it. */
  holder: string;
  /** Wall-clock time the lease ends unless renewed (the slave itself counts on a monotonic clock). */
  expiresAt: string;
  ttlS: number;
}

/**
 * The RTSP credential of a lease, in the claim answer to its holder only: it reads the camera's F1 and publishes its
 * F2 on that slave while the lease runs, nothing else (no API access). Made when the lease is acquired, kept while it
 * is renewed.
 */
export interface LeaseRtspCredential {
  user: string;
  password: string;
}
