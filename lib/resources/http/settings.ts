import { breakerSchema, type BreakerSettings } from '../../resilience/settings';
import type { SettingsRule } from '../../settings/types';
import type { WebSocketSettings } from './websocket/sockets';

export const httpServerSchema = {
  host: { doc: 'Address to listen on', format: String, default: '127.0.0.1' },
  port: {
    doc: 'Port to listen on (0 picks a free one; address() tells which)',
    format: 'port',
    default: 8080,
  },
  keep_alive_timeout_ms: {
    doc: 'How long an idle keep-alive connection stays open',
    format: 'duration',
    default: 5000,
  },
  headers_timeout_ms: {
    doc: 'Time a client has to send the request headers (at most request_timeout_ms)',
    format: 'duration',
    default: 20_000,
  },
  request_timeout_ms: {
    doc: 'Time a client has to send the whole request; 408 after it (0: no limit)',
    format: 'duration',
    default: 30_000,
  },
  max_body_bytes: {
    doc: 'Largest request body read; a larger one gets 413',
    format: 'nat',
    default: 1024 * 1024,
  },
  trust_proxy: {
    doc: 'Take the client address and protocol from X-Forwarded-* headers',
    format: Boolean,
    default: false,
  },
  shutdown_delay_ms: {
    doc: 'On stop, how long the listener keeps accepting (answering with Connection: close) after readiness turned 503, for load balancers that update late',
    format: 'duration',
    default: 0,
  },
  drain_idle_grace_ms: {
    doc: 'On stop, how long a connection with nothing to answer stays open for a request already on its way',
    format: 'duration',
    default: 1000,
  },
  drain_timeout_ms: {
    doc: 'On stop, from the listener closing, how long in-flight requests may take before their sockets are destroyed',
    format: 'duration',
    default: 25_000,
  },
  retry_after_s: {
    doc: 'Retry-After of the 503 sent to a request arriving on an open connection once the listener closed',
    format: 'nat',
    default: 5,
  },
  access_log: {
    doc: 'Log one info line per request (its JSON encoding and write are most of the middleware cost)',
    format: Boolean,
    default: true,
  },
  expose_errors: {
    doc: 'Error bodies carry the stack: auto (not when NODE_ENV is production), always or never',
    format: ['auto', 'always', 'never'],
    default: 'auto',
  },
  validation: {
    unknown_properties: {
      doc: 'What a body property its route schema does not name does, unless the route says: strip (removed before the handler), reject (a 400) or allow',
      format: ['strip', 'reject', 'allow'],
      default: 'strip',
    },
    responses: {
      doc: "Check answers against their route's response schemas (a mismatch is a 500, logged with the route and pointer): auto (not when NODE_ENV is production), on or off",
      format: ['auto', 'on', 'off'],
      default: 'auto',
    },
  },
  openapi: {
    enabled: {
      doc: "Serve the OpenAPI 3.1 document of this server's routes at openapi.path: auto (not when NODE_ENV is production), on or off",
      format: ['auto', 'on', 'off'],
      default: 'auto',
    },
    path: { doc: 'Path of the OpenAPI document', format: String, default: '/openapi.json' },
  },
  websocket: {
    max_payload_bytes: {
      doc: 'Largest WebSocket message a client may send; a larger one closes its connection with 1009',
      format: 'nat',
      default: 1024 * 1024,
    },
    send_buffer_bytes: {
      doc: 'Bytes sent to one WebSocket client and not yet taken by it; a send past them is a slow client (websocket.slow_client)',
      format: 'nat',
      default: 1024 * 1024,
    },
    slow_client: {
      doc: 'What a send past send_buffer_bytes does: close (the connection is ended, the message dropped) or drop (the message only); both counted',
      format: ['close', 'drop'],
      default: 'close',
    },
    ping_interval_ms: {
      doc: 'How often each WebSocket client is pinged; one that has not answered the previous ping is ended (0: no pings)',
      format: 'duration',
      default: 30_000,
    },
  },
  cors: {
    enabled: { doc: 'Answer cross-origin requests', format: Boolean, default: false },
    origins: {
      doc: "Allowed origins ('*' for any)",
      format: Array,
      default: [] as string[],
    },
    methods: {
      doc: 'Methods allowed in a preflight',
      format: Array,
      default: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH'],
    },
    headers: {
      doc: 'Request headers allowed in a preflight (empty: those the preflight asks for)',
      format: Array,
      default: [] as string[],
    },
    credentials: { doc: 'Send Access-Control-Allow-Credentials', format: Boolean, default: false },
    max_age_s: { doc: 'How long a preflight may be cached', format: 'nat', default: 600 },
  },
};

/**
 * A credentialed request from any origin would have to be answered with that origin reflected:
 * any site could then read a logged-in user's answers. The fetch standard refuses `*` with
 * credentials, and so does this, at start, naming the key.
 */
export const httpServerRules: readonly SettingsRule<HttpServerSettings>[] = [
  {
    key: 'cors.credentials',
    expected:
      "false while cors.origins lists '*' (a credentialed answer to any origin would reflect it: list the origins instead)",
    breaks: ({ cors }) => cors.enabled && cors.credentials && cors.origins.includes('*'),
  },
];

export interface CorsSettings {
  enabled: boolean;
  origins: string[];
  methods: string[];
  headers: string[];
  credentials: boolean;
  max_age_s: number;
}

export interface HttpServerSettings {
  host: string;
  port: number;
  keep_alive_timeout_ms: number;
  headers_timeout_ms: number;
  request_timeout_ms: number;
  max_body_bytes: number;
  trust_proxy: boolean;
  shutdown_delay_ms: number;
  drain_idle_grace_ms: number;
  drain_timeout_ms: number;
  retry_after_s: number;
  access_log: boolean;
  expose_errors: 'auto' | 'always' | 'never';
  validation: { unknown_properties: 'strip' | 'reject' | 'allow'; responses: 'auto' | 'on' | 'off' };
  openapi: { enabled: 'auto' | 'on' | 'off'; path: string };
  websocket: WebSocketSettings;
  cors: CorsSettings;
}

export const httpClientSchema = {
  base_url: { doc: 'URL relative request paths are resolved against', format: String, default: '' },
  service: {
    doc: 'Instead of base_url: a service in the registry; each attempt goes to an instance Discovery picks',
    format: String,
    default: '',
  },
  server: {
    doc: "With service: which HTTP server of its instances to call (empty: 'http', else the only one)",
    format: String,
    default: '',
  },
  timeout_ms: {
    doc: 'Time one attempt may take, reading the body included',
    format: 'duration',
    default: 10_000,
  },
  total_timeout_ms: {
    doc: 'Time a whole request may take: waiting in the bulkhead, every attempt and the delays between them (0: no limit)',
    format: 'duration',
    default: 30_000,
  },
  retries: {
    doc: 'Further attempts of an idempotent request after a network error, a timeout or a 502/503/504',
    format: 'nat',
    default: 2,
  },
  backoff_ms: {
    doc: 'Ceiling of the delay before the first retry (full jitter under it); doubled for each next one',
    format: 'duration',
    default: 100,
  },
  max_backoff_ms: {
    doc: 'Longest delay between two attempts; a Retry-After asking for more (with no total timeout) is not waited for',
    format: 'duration',
    default: 2000,
  },
  connections: { doc: 'Most open connections per origin', format: 'nat', default: 64 },
  breaker: {
    ...breakerSchema,
    enabled: {
      doc: 'A circuit breaker per origin (per instance with service): a network error, a timeout and a 502/503/504 count as failures',
      format: Boolean,
      default: true,
    },
    affects_readiness: {
      doc: 'While every breaker of this client is open, /health/ready answers 503 (a broken dependency of a dependency takes the service out of rotation)',
      format: Boolean,
      default: false,
    },
  },
  bulkhead: {
    max_concurrent: {
      doc: 'Requests of this client running at once (0: no bulkhead)',
      format: 'nat',
      default: 128,
    },
    max_queued: {
      doc: 'Requests waiting for one of those to end; beyond them a request fails at once with POLICY_BULKHEAD_FULL',
      format: 'nat',
      default: 512,
    },
  },
};

export interface HttpClientSettings {
  base_url: string;
  service: string;
  server: string;
  timeout_ms: number;
  retries: number;
  backoff_ms: number;
  total_timeout_ms: number;
  max_backoff_ms: number;
  connections: number;
  breaker: BreakerSettings & { affects_readiness: boolean };
  bulkhead: { max_concurrent: number; max_queued: number };
}
