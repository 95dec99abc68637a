// Services started by tests (and the child processes they spawn) bind their report server to a
// free port: parallel jest workers would otherwise race for the default 5747.
process.env.KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT ??= '0';
