import { defineSettings } from '../../../lib/settings';

export const httpSchema = defineSettings({
  host: { doc: 'Interface to bind', format: String, default: '127.0.0.1' },
  port: { doc: 'TCP port', format: 'port', default: 8080 },
  debug: { format: Boolean, default: false },
  mode: { format: ['fast', 'safe'], default: 'safe' },
  limits: {
    body_kb: { format: 'nat', default: 64 },
    headers: { format: 'nat', default: 100 },
  },
});

export const databaseSchema = defineSettings({
  url: { format: String, default: null },
  password: { format: String, default: null },
  pool: { format: 'nat', default: 4 },
});
