/**
 * The few calls of Grafana's HTTP API the provisioner makes (folders, data
 * sources, dashboards), with a service account token. Statuses follow
 * Grafana's documentation: 404 on a missing object, 409 when a folder uid or
 * data source name is taken, 412 when a dashboard save conflicts.
 */

export class GrafanaApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly grafanaMessage: string,
  ) {
    super(`Grafana ${method} ${path} answered ${status}: ${grafanaMessage}`);
  }
}

export interface DataSourceSpec {
  readonly uid: string;
  readonly name: string;
  /** The AMP workspace's Prometheus endpoint. */
  readonly url: string;
  readonly region: string;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

export class GrafanaApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly options: { timeoutMs?: number; retries?: number; retryDelayMs?: number } = {},
  ) {}

  /** Creates the folder, or keeps it when its uid exists. */
  async ensureFolder(uid: string, title: string): Promise<void> {
    const existing = await this.request('GET', `/api/folders/${encodeURIComponent(uid)}`, undefined, [404]);
    if (existing.status === 200) {
      const current = existing.body as { title?: string; version?: number };
      if (current.title !== title) {
        await this.request('PUT', `/api/folders/${encodeURIComponent(uid)}`, { title, overwrite: true });
      }
      return;
    }
    // A concurrent create of the same uid answers 409: the folder is there either way.
    await this.request('POST', '/api/folders', { uid, title }, [409]);
  }

  async deleteFolder(uid: string): Promise<void> {
    await this.request('DELETE', `/api/folders/${encodeURIComponent(uid)}`, undefined, [404]);
  }

  /** Creates or updates the AMP data source (SigV4 with the workspace's IAM role). */
  async upsertDataSource(spec: DataSourceSpec): Promise<void> {
    const body = {
      uid: spec.uid,
      name: spec.name,
      type: 'prometheus',
      access: 'proxy',
      url: spec.url.replace(/\/+$/, ''),
      isDefault: false,
      jsonData: {
        httpMethod: 'POST',
        sigV4Auth: true,
        sigV4AuthType: 'ec2_iam_role',
        sigV4Region: spec.region,
      },
    };
    const path = `/api/datasources/uid/${encodeURIComponent(spec.uid)}`;
    const existing = await this.request('GET', path, undefined, [404]);
    if (existing.status === 200) {
      await this.request('PUT', path, body);
      return;
    }
    await this.request('POST', '/api/datasources', body);
  }

  async deleteDataSource(uid: string): Promise<void> {
    await this.request('DELETE', `/api/datasources/uid/${encodeURIComponent(uid)}`, undefined, [404]);
  }

  /** Saves a dashboard in the folder, replacing the one with the same uid. */
  async saveDashboard(dashboard: Record<string, unknown>, folderUid: string): Promise<void> {
    await this.request('POST', '/api/dashboards/db', {
      dashboard: { ...dashboard, id: null },
      folderUid,
      overwrite: true,
      message: 'Provisioned by observed-lambda',
    });
  }

  async deleteDashboard(uid: string): Promise<void> {
    await this.request('DELETE', `/api/dashboards/uid/${encodeURIComponent(uid)}`, undefined, [404]);
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    accepted: readonly number[] = [],
  ): Promise<{ status: number; body: unknown }> {
    const retries = this.options.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
        });
      } catch (error) {
        if (attempt < retries) {
          await this.pause(attempt);
          continue;
        }
        throw new Error(`Grafana ${method} ${path} failed: ${(error as Error).message}`);
      }
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Keep the text: error pages from a proxy are not JSON.
      }
      if (response.ok || accepted.includes(response.status)) return { status: response.status, body: parsed };
      if (RETRYABLE.has(response.status) && attempt < retries) {
        await this.pause(attempt);
        continue;
      }
      const message =
        typeof parsed === 'object' && parsed !== null && 'message' in parsed
          ? String((parsed as { message: unknown }).message)
          : String(text).slice(0, 300);
      throw new GrafanaApiError(method, path, response.status, message);
    }
  }

  private pause(attempt: number): Promise<void> {
    const base = this.options.retryDelayMs ?? 500;
    return new Promise((resolve) => setTimeout(resolve, base * 2 ** attempt * (0.5 + Math.random() / 2)));
  }
}
