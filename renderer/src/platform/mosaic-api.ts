/** The mosaic's reads of the API: a master's relays, a slave's cameras, and which streams are served now. */
import type { Camera } from '../../../app/defs/camera.js';
import type { MosaicInput, RelayRow, StreamRow } from '../state/mosaic.js';
import type { HttpPlatform } from './http.js';

/** Which lists a node has: relays on a master, cameras on a slave, streams on both. */
export interface MosaicRoles {
  master: boolean;
  slave: boolean;
}

/** GET /api/v1/relays (master), /api/v1/cameras (slave) and /api/v1/streams (either), in parallel. */
export async function loadMosaicInput(
  platform: Pick<HttpPlatform, 'getJson'>,
  roles: MosaicRoles,
): Promise<MosaicInput> {
  const [relays, cameras, streams] = await Promise.all([
    roles.master ? platform.getJson<{ relays: RelayRow[] }>('/api/v1/relays').then((r) => r.relays) : null,
    roles.slave ? platform.getJson<{ cameras: Camera[] }>('/api/v1/cameras').then((r) => r.cameras) : null,
    roles.master || roles.slave
      ? platform.getJson<{ streams: StreamRow[] }>('/api/v1/streams').then((r) => r.streams)
      : null,
  ]);
  return { relays, cameras, streams };
}
