import path from 'node:path';

// One command per process, nothing to export first: etcd on its default port, this folder's settings.
process.env.KEEL_ETCD_HOSTS ??= '127.0.0.1:2379';
process.env.KEEL_CONFIG_FILE ??= path.join(__dirname, 'settings.yml');
