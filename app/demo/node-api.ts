/** The few API calls the demo makes to its nodes: health, login, cameras, tokens, config. */

/** An API call that did not answer what was expected. */
export class NodeApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'NodeApiError';
  }
}

/** A camera's publish grant, returned once by the slave. */
export interface PublishGrant {
  publishKey: string;
  publishUrl: string;
}

/** What PATCH /api/v1/config answers. */
export interface ConfigResult {
  changed: string[];
  restarted: string[];
  restartRequired: string[];
}

const TIMEOUT_MS = 10_000;

/** One node's API, as the admin. */
export class NodeApi {
  private token: string | null = null;

  constructor(
    readonly url: string,
    private readonly password: string,
  ) {}

  /** True when /health answers 200: the API starts last, so every component has started. */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** Logs in as admin (again: access tokens live 15 min, a demo much longer). */
  async login(): Promise<void> {
    const body = (await this.call('POST', '/api/v1/auth/login', { password: this.password }, 200, false)) as {
      accessToken: string;
    };
    this.token = body.accessToken;
  }

  /** Creates a push camera; returns its publish grant. */
  async createCamera(id: string, name: string): Promise<PublishGrant> {
    const body = { id, name, source: { kind: 'rtmp-push' } };
    return ((await this.call('POST', '/api/v1/cameras', body, 201)) as { grant: PublishGrant }).grant;
  }

  /** Creates an API token; returns its secret (`cpt_…`), shown this once. */
  async createToken(name: string): Promise<string> {
    return ((await this.call('POST', '/api/v1/tokens', { name }, 201)) as { secret: string }).secret;
  }

  /** PATCH /api/v1/config. */
  async patchConfig(patch: Record<string, unknown>): Promise<ConfigResult> {
    return (await this.call('PATCH', '/api/v1/config', patch, 200)) as ConfigResult;
  }

  /** GET a JSON route. */
  async get<T>(path: string): Promise<T> {
    return (await this.call('GET', path, undefined, 200)) as T;
  }

  private async call(method: string, path: string, body: unknown, expect: number, auth = true): Promise<unknown> {
    if (auth && !this.token) await this.login();
    const send = () =>
      fetch(`${this.url}${path}`, {
        method,
        headers: {
          ...(auth && this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    let res = await send();
    if (res.status === 401 && auth) {
      await res.arrayBuffer();
      await this.login();
      res = await send();
    }
    const text = await res.text();
    if (res.status !== expect) {
      const why = /"message":"([^"]*)"/.exec(text)?.[1] ?? text.slice(0, 200);
      throw new NodeApiError(`${method} ${this.url}${path}: HTTP ${res.status}: ${why}`, res.status);
    }
    return text ? (JSON.parse(text) as unknown) : undefined;
  }
}
