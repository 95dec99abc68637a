import path from 'node:path';
import { run } from '../../lib';
import { TwoServers } from './service';

// The two servers' settings live in settings.yml; the environment overrides them
// (KEEL__SYSTEM__RESOURCES__BILLING_HTTP_API__PORT=0), etcd too when KEEL_ETCD_HOSTS is set.
process.env.KEEL_CONFIG_FILE ??= path.join(__dirname, 'settings.yml');
void run(TwoServers);
