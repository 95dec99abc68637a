/**
 * Every code a Keel error carries, once: the class that raises it, what it means and what to do.
 * The classes' code types are read from this table, so a code exists only once it has a row, and
 * the README's error section is checked against it (test/unit/errors/codes.test.ts).
 *
 * A code is unique across Keel and begins with its family's prefix (`SETTINGS_`, `AMQP_`, ...);
 * the graph and lifecycle codes, the first Keel had and the ones most matched on, keep their names.
 */
export interface ErrorCodeInfo {
  /** The classes raised with this code (subclasses of `KeelError`). */
  readonly raisedBy: readonly string[];
  readonly meaning: string;
  readonly action: string;
}

export const ERROR_CODES = {
  // GraphError: the module's shape, found before any constructor runs.
  MISSING_NAME: {
    raisedBy: ['GraphError'],
    meaning: 'A resource or a microservice has no name.',
    action: 'Give `@microservice` a `name`, and every entry of `resources` a non-empty key.',
  },
  NOT_A_RESOURCE: {
    raisedBy: ['GraphError'],
    meaning: 'A class in the graph is not a `@resource`, or the service does not extend `Microservice`.',
    action: 'Decorate the class with `@resource()`, or provide the value through `providers`.',
  },
  MISSING_PROVIDER: {
    raisedBy: ['GraphError'],
    meaning: 'A dependency has no provider; the message shows the chain that needs it.',
    action: 'List the resource in `resources`, or add a `providers` entry for the token.',
  },
  AMBIGUOUS_PROVIDER: {
    raisedBy: ['GraphError'],
    meaning: 'A dependency by class matches two or more registered names.',
    action: 'Inject one of them by name: `@inject(resourceToken(name))` or `@named(name)`.',
  },
  CYCLE: {
    raisedBy: ['GraphError'],
    meaning: 'Resources depend on each other in a cycle; the message shows it.',
    action: 'Break the cycle: move the shared part into a resource both depend on.',
  },
  DUPLICATE_NAME: {
    raisedBy: ['GraphError'],
    meaning: 'Two resources, providers or tasks share one name.',
    action: 'Rename one of them.',
  },
  INVALID_PROVIDER: {
    raisedBy: ['GraphError'],
    meaning:
      'An override or a `providers` entry gives `useClass` or `useFactory` something that is not a function, or gives none of `useValue`, `useClass`, `useFactory`.',
    action:
      'Pass the class or factory itself; an import that resolved to `undefined` (a cycle of imports, a wrong name) is the usual cause.',
  },
  INVALID_OPTION: {
    raisedBy: ['GraphError'],
    meaning:
      'A decorator option has a value Keel cannot use: `@resource({ hookTimeoutMs })` not a whole number of ms from 1 to 2^31−1.',
    action: 'Fix the option the message names.',
  },
  CONSTRUCTOR_FAILED: {
    raisedBy: ['GraphError'],
    meaning: 'A constructor threw while the graph was built; nothing was started.',
    action: 'Read `error.cause`; move I/O out of constructors into a start hook.',
  },
  ASYNC_PROVIDER: {
    raisedBy: ['GraphError'],
    meaning: 'A `useFactory` returned a Promise, which would be injected as it is.',
    action: 'Return the value itself, or make it a resource that connects in its `start` hook.',
  },
  MISPLACED_TASK: {
    raisedBy: ['GraphError'],
    meaning: '`@task`/`@taskTimer`/`@cron` on a resource class; only the microservice runs tasks.',
    action:
      "Move the task to the microservice, or run the resource's loop from `start` and end it in `stop`.",
  },
  INVALID_CRON: {
    raisedBy: ['GraphError'],
    meaning: 'A `@cron` expression croner cannot read, or a `timezone` it does not know.',
    action: 'Fix the expression (five fields, or six with seconds first) or name an IANA time zone.',
  },
  HTTP_NO_SERVER: {
    raisedBy: ['GraphError'],
    meaning: 'A class declares `@http` or `@websocket` routes but the service has no `HttpServerResource`.',
    action: "List an `HttpServerResource` in the service's resources.",
  },
  HTTP_UNKNOWN_SERVER: {
    raisedBy: ['GraphError'],
    meaning: "An `@http` route's `server` names no `HttpServerResource` of the service.",
    action: 'Name one of the servers the message lists, or add that server.',
  },
  HTTP_AMBIGUOUS_SERVER: {
    raisedBy: ['GraphError'],
    meaning: 'An `@http` route names no `server` while the service has several.',
    action: 'Add `{ server: name }` to the route.',
  },
  AMQP_NO_RESOURCE: {
    raisedBy: ['GraphError'],
    meaning:
      'A class declares `@subscribe`/`@respond`/`@pull` handlers but the service has no `AmqpResource`.',
    action: "List an `AmqpResource` in the service's resources.",
  },
  KAFKA_NO_RESOURCE: {
    raisedBy: ['GraphError'],
    meaning: 'A class declares `@consume` handlers but the service has no `KafkaResource`.',
    action: "List a `KafkaResource` in the service's resources.",
  },

  // LifecycleError: starting, stopping, restarting.
  HOOK_FAILED: {
    raisedBy: ['LifecycleError'],
    meaning: 'A start hook threw; what had started was stopped again.',
    action: 'Read `error.resource`, `error.phase` and `error.cause`.',
  },
  HOOK_TIMEOUT: {
    raisedBy: ['LifecycleError', 'HookTimeoutError'],
    meaning:
      'A hook did not finish within its timeout: `system.resources.<name>.hook_timeout_ms`, else `@resource({ hookTimeoutMs })`, else `system.lifecycle.hook_timeout_ms`.',
    action: 'Find why the named hook hangs, or raise the timeout if the work is legitimately slow.',
  },
  STOP_FAILED: {
    raisedBy: ['LifecycleError'],
    meaning:
      'A stop hook failed or a task outlived its share of the stop timeout; every resource was stopped anyway.',
    action: 'Read `error.failures`: each names the resource, the phase and the error.',
  },
  RESTART_FAILED: {
    raisedBy: ['LifecycleError'],
    meaning: 'Restarting a resource failed.',
    action: 'Read `error.failures`; the resource stays FAILED.',
  },
  SUPER_NOT_CALLED: {
    raisedBy: ['LifecycleError'],
    meaning: 'A microservice override of a phase did not call `super`.',
    action: 'Call `await super.<phase>()` in the override.',
  },
  SUPER_OUT_OF_PHASE: {
    raisedBy: ['LifecycleError'],
    meaning:
      "A microservice override called another phase's `super` (`super.start()` in `postStart`) or its own twice; the start is rolled back.",
    action: 'Call `await super.<phase>()` once, in the override of that phase only.',
  },
  INVALID_STATE: {
    raisedBy: ['LifecycleError'],
    meaning: 'An action the app cannot take in its current state (start twice, restart an unknown resource).',
    action: 'Wait for the running `start()`/`stop()` to settle, or check the resource name.',
  },
  CRON_FLEET_NO_ETCD: {
    raisedBy: ['LifecycleError'],
    meaning:
      "A `@cron` schedule with `fleet: 'one'` in a service started without `KEEL_ETCD_HOSTS`: its ticks are claimed in etcd.",
    action: "Set `KEEL_ETCD_HOSTS` (and install etcd3), or drop `fleet: 'one'` to run on every instance.",
  },
  START_CANCELLED: {
    raisedBy: ['LifecycleError'],
    meaning: 'A stop was asked for while starting; the start was cancelled and rolled back.',
    action: 'Nothing, if the stop was meant (a signal, a critical task); otherwise see what asked for it.',
  },

  // SettingsError
  SETTINGS_INVALID: {
    raisedBy: ['SettingsError'],
    meaning: 'One or more settings are missing or invalid; `error.issues` lists each with its origin.',
    action: 'Fix the value at the origin each issue names (file, etcd key or environment variable).',
  },
  SETTINGS_SCHEMA: {
    raisedBy: ['SettingsError'],
    meaning: "A resource's settings schema is not a valid convict schema.",
    action: 'Fix the schema the message names (reserved keys, unknown `format`).',
  },
  SETTINGS_FILE: {
    raisedBy: ['SettingsError'],
    meaning: 'The settings file (`KEEL_CONFIG_FILE`) cannot be read or parsed.',
    action: 'Check the path and its YAML or JSON.',
  },
  SETTINGS_ETCD_OPTIONS: {
    raisedBy: ['SettingsError'],
    meaning:
      'A `KEEL_ETCD_*` variable is invalid, etcd3 is not installed, or the installed etcd3 cannot check TLS members reached by IP address.',
    action:
      'Fix the variable the message names, `npm install etcd3`, or install the etcd3 version keel names (`~1.1.2`).',
  },
  SETTINGS_ETCD_AUTH: {
    raisedBy: ['SettingsError'],
    meaning: 'etcd refused the credentials.',
    action: 'Check `KEEL_ETCD_USERNAME` and `KEEL_ETCD_PASSWORD`.',
  },
  SETTINGS_ETCD_UNREACHABLE: {
    raisedBy: ['SettingsError'],
    meaning: 'No etcd member answered within the timeout.',
    action: 'Check `KEEL_ETCD_HOSTS` and that etcd is up.',
  },
  SETTINGS_ETCD_CHECK_KEY: {
    raisedBy: ['SettingsError'],
    meaning: '`KEEL_ETCD_CHECK_KEY` did not appear within its wait.',
    action: 'Push the settings (`keel settings push`), or raise the wait.',
  },
  SETTINGS_UPDATE_REJECTED: {
    raisedBy: ['SettingsError'],
    meaning: 'A settings change at run time would make the settings invalid; the old values stay.',
    action: 'Fix the pushed value; the message names the key and why.',
  },
  SETTINGS_UNSAFE_KEY: {
    raisedBy: ['SettingsError'],
    meaning: 'A key segment is `__proto__`, `constructor` or `prototype`.',
    action: 'Rename the key.',
  },
  SETTINGS_ETCD_KEY: {
    raisedBy: ['SettingsError'],
    meaning:
      'An etcd key under the prefix was refused (unsafe or malformed) and ignored; logged, not thrown.',
    action: 'Fix or delete the key the message names.',
  },
  SETTINGS_KEY_UNMAPPABLE: {
    raisedBy: ['SettingsError'],
    meaning:
      'A key in a file given to `keel settings push` is empty or holds `/`, which an etcd key cannot tell from a nesting; nothing was written.',
    action: 'Rename the key the message names, or nest it (`a: { b: 1 }` instead of `a/b: 1`).',
  },
  SETTINGS_CLOSED: {
    raisedBy: ['SettingsError'],
    meaning: '`watch()` on a settings provider that is closed.',
    action: 'Watch settings while the app runs, not after its stop.',
  },

  // LoggingSettingsError
  KEEL_LOGGING_SETTINGS: {
    raisedBy: ['LoggingSettingsError'],
    meaning: 'A `system.logging` value Keel cannot use.',
    action: 'Fix the key the message names; it says what the key accepts.',
  },

  // Metrics
  METRIC_CONFLICT: {
    raisedBy: ['MetricConflictError'],
    meaning: 'A metric name was defined again with another type, help, label set or layout.',
    action: 'Use one definition per name, or another name.',
  },
  METRIC_LABELS: {
    raisedBy: ['MetricLabelError'],
    meaning: "Labels that do not fit the metric's label names: unknown, missing, rebound or reserved.",
    action: 'Pass exactly the label names the meter was defined with.',
  },
  METRIC_VALUE: {
    raisedBy: ['MetricValueError'],
    meaning: 'A value a meter cannot take (a negative counter increment, NaN) or an unusable definition.',
    action: 'Check the value or the definition the message names.',
  },

  // HTTP
  HTTP_ROUTE_UNKNOWN_SERVER: {
    raisedBy: ['HttpRouteError'],
    meaning: "While a server starts: a route's `server` names no HTTP server of the service.",
    action: 'Name one of the servers the message lists.',
  },
  HTTP_ROUTE_AMBIGUOUS_SERVER: {
    raisedBy: ['HttpRouteError'],
    meaning: 'While a server starts: a route names no `server` while the service has several.',
    action: 'Add `{ server: name }` to the route.',
  },
  HTTP_WEBSOCKET_MISSING_DEPENDENCY: {
    raisedBy: ['WebSocketError'],
    meaning:
      'A `@websocket` route (or `HttpServerResource.websocket`) while the package ws is not installed.',
    action: '`npm install ws`.',
  },
  HTTP_PORT_IN_USE: {
    raisedBy: ['HttpListenError'],
    meaning:
      "An HTTP server's or the report server's port is taken by another process; the message names the setting.",
    action: 'Stop what holds the port, or set the named `port` key to another one (0 picks a free port).',
  },
  HTTP_RESPONSE_UNSERIALIZABLE: {
    raisedBy: ['HttpResponseError'],
    meaning:
      "A handler's answer JSON cannot serialize (nested too deep, a cycle, a BigInt): answered 500 with the request id, counted and logged as 500.",
    action: 'Return a body JSON can write; the error log has the cause.',
  },
  HTTP_LISTEN_FAILED: {
    raisedBy: ['HttpListenError'],
    meaning:
      'A server could not listen on its `host` and `port` for another reason (an address not of this machine, no permission).',
    action: 'Fix the named `host` or `port` setting.',
  },
  HTTP_CLIENT_NOT_STARTED: {
    raisedBy: ['HttpClientError'],
    meaning: 'A request before the `HttpClientResource` started.',
    action: 'Send requests from a start hook of a resource that depends on the client, or later.',
  },
  HTTP_CLIENT_CLOSED: {
    raisedBy: ['HttpClientError'],
    meaning: 'A request after the client stopped.',
    action: 'Stop sending once the service stops.',
  },
  HTTP_CLIENT_TIMEOUT: {
    raisedBy: ['HttpClientError'],
    meaning: 'No response within the request timeout (after the retries).',
    action: 'Check the remote service, or raise `timeout_ms`.',
  },
  HTTP_CLIENT_NETWORK: {
    raisedBy: ['HttpClientError'],
    meaning: 'The connection failed or was reset before a response (after the retries).',
    action: 'Check the remote address and that it is up; `error.cause` has the socket error.',
  },
  HTTP_CLIENT_INVALID_OPTION: {
    raisedBy: ['HttpClientError'],
    meaning:
      'A per-request `timeoutMs` or `totalTimeoutMs` that is not an integer from 0 to 2147483647 (Node runs a longer timer after 1 ms).',
    action: 'Pass whole milliseconds within that range.',
  },
  HTTP_CLIENT_NO_DISCOVERY: {
    raisedBy: ['HttpClientError'],
    meaning: 'A client with `service:` in a service without a `Discovery` resource.',
    action: "List `Discovery` in the service's resources, or give the client a `base_url`.",
  },
  HTTP_CLIENT_NO_INSTANCE: {
    raisedBy: ['HttpClientError'],
    meaning:
      'Discovery knows no live instance of the service (not yet tried by this request, with that HTTP server).',
    action: 'Check that the service is running and registered under that name.',
  },
  POLICY_TIMEOUT: {
    raisedBy: ['PolicyError'],
    meaning:
      'A call through a resilience policy (an `HttpClientResource` request) found no result within its total timeout, retries and waits included.',
    action: 'Check the remote side, or raise `total_timeout_ms` (per call: `totalTimeoutMs`).',
  },
  POLICY_BREAKER_OPEN: {
    raisedBy: ['PolicyError'],
    meaning:
      "The target's circuit breaker is open (with `service:`, every instance's): the call was refused without an attempt.",
    action:
      'Look at `/status` for the failing target; a probe after `breaker.half_open_after_ms` brings it back.',
  },
  POLICY_BULKHEAD_FULL: {
    raisedBy: ['PolicyError'],
    meaning:
      'The bulkhead had `max_concurrent` calls running and `max_queued` waiting: the call was refused at once.',
    action: 'Send fewer calls at once, or raise `bulkhead.max_concurrent` / `bulkhead.max_queued`.',
  },
  POLICY_RETRIES_EXHAUSTED: {
    raisedBy: ['PolicyError'],
    meaning:
      "Every attempt failed; `error.cause` is the last attempt's error, `error.attempts` how many were made.",
    action: 'Read `error.cause`; check the remote side, or raise `retries`.',
  },
  BODY_INVALID_JSON: {
    raisedBy: ['HttpBodyError'],
    meaning: 'A JSON request body that does not parse; answered 400.',
    action: 'The caller sends valid JSON.',
  },
  BODY_PROTO_POISONING: {
    raisedBy: ['HttpBodyError'],
    meaning:
      'A JSON body with a `__proto__` key or a `constructor.prototype` (prototype poisoning); answered 400.',
    action: 'The caller drops those keys; nothing to change in the service.',
  },
  BODY_UNSAFE_KEY: {
    raisedBy: ['HttpBodyError'],
    meaning: 'A form field named `__proto__`, `constructor` or `prototype`; answered 400.',
    action: 'The caller renames the field.',
  },
  BODY_ENCODING_UNSUPPORTED: {
    raisedBy: ['HttpBodyError'],
    meaning: 'A `Content-Encoding` other than gzip, deflate or br; answered 415 with `Accept-Encoding`.',
    action: 'The caller sends one of the codings `Accept-Encoding` lists.',
  },
  BODY_ENCODING_INVALID: {
    raisedBy: ['HttpBodyError'],
    meaning: 'A body that is not valid data of its `Content-Encoding`; answered 400.',
    action: 'The caller sends what its `Content-Encoding` says.',
  },
  BODY_TOO_LARGE: {
    raisedBy: ['HttpBodyError'],
    meaning: 'A body over `max_body_bytes` once decoded; answered 413.',
    action: 'The caller sends less, or raise `max_body_bytes`.',
  },
  REQUEST_CONTEXT_OFF: {
    raisedBy: ['RequestContextError'],
    meaning: '`currentRequestId()` was called while the request context is off (Node 20 and 22, by default).',
    action:
      "Call `useRequestContext()` on the service's `ServiceHandle` (`@inject(SERVICE)`), or `enableRequestContext()` at startup; `contextRequestId()` never throws.",
  },

  // AMQP
  AMQP_MISSING_DEPENDENCY: {
    raisedBy: ['AmqpError'],
    meaning: 'amqplib is not installed.',
    action: '`npm install amqplib`.',
  },
  AMQP_CONNECT_FAILED: {
    raisedBy: ['AmqpError'],
    meaning: 'The broker could not be reached or refused the connection at start.',
    action: "Check the resource's `url` and that the broker is up.",
  },
  AMQP_NOT_STARTED: {
    raisedBy: ['AmqpError'],
    meaning: 'A send or request before the `AmqpResource` started.',
    action: 'Send from a start hook of a resource that depends on it, or later.',
  },
  AMQP_STOPPED: {
    raisedBy: ['AmqpError'],
    meaning: 'A send or request after the `AmqpResource` stopped.',
    action: 'Stop sending once the service stops.',
  },
  AMQP_PUBLISH_FAILED: {
    raisedBy: ['AmqpError'],
    meaning: 'The broker did not confirm a published message.',
    action: 'Read `error.cause`; the message may not have been routed.',
  },
  AMQP_PUBLISH_TIMEOUT: {
    raisedBy: ['AmqpError'],
    meaning:
      'A `publish()` or `push()` was not confirmed within `publish_timeout_ms` (the broker away, or not confirming); it is not sent again.',
    action:
      'Check the broker; answer the caller (a 503) or keep the message elsewhere. A message already written may still arrive.',
  },
  AMQP_NOT_CONNECTED: {
    raisedBy: ['AmqpError'],
    meaning: 'With `fail_fast` on, a send or request while the connection to the broker is down.',
    action: 'Answer the caller at once (a 503), or turn `fail_fast` off to wait up to `publish_timeout_ms`.',
  },
  AMQP_UNKNOWN_RESOURCE: {
    raisedBy: ['AmqpError'],
    meaning: "A handler's `resource` names no `AmqpResource` of the service.",
    action: 'Name one of the AMQP resources the message lists.',
  },
  AMQP_AMBIGUOUS_RESOURCE: {
    raisedBy: ['AmqpError'],
    meaning: 'A handler names no `resource` while the service has several `AmqpResource`s.',
    action: 'Add `{ resource: name }` to the handler.',
  },
  AMQP_REQUEST_TIMEOUT: {
    raisedBy: ['AmqpRequestError'],
    meaning: '`request()` got no reply within its timeout.',
    action: 'Check that a responder consumes the queue, or raise the timeout.',
  },
  AMQP_INVALID_OPTION: {
    raisedBy: ['AmqpRequestError'],
    meaning:
      "`request()`'s `timeout_ms` is not an integer from 0 to 2147483647 (Node runs a longer timer after 1 ms).",
    action: 'Pass whole milliseconds within that range.',
  },
  AMQP_NO_RESPONDER: {
    raisedBy: ['AmqpRequestError'],
    meaning: "`request()`'s message could not be routed to any queue.",
    action: 'Start a service that `@respond`s on that queue.',
  },
  AMQP_REMOTE_ERROR: {
    raisedBy: ['AmqpRequestError'],
    meaning: "The responder's handler threw; `error.remoteCode` is its error's code, if any.",
    action: 'Read the message and `remoteCode`; the fault is in the responder.',
  },
  AMQP_CONNECTION_LOST: {
    raisedBy: ['AmqpRequestError'],
    meaning: 'The connection closed while a request waited for its reply.',
    action: 'Retry once the resource reconnects; the request may or may not have been handled.',
  },
  // Kafka
  KAFKA_MISSING_DEPENDENCY: {
    raisedBy: ['KafkaError'],
    meaning: 'kafkajs is not installed.',
    action: '`npm install kafkajs`.',
  },
  KAFKA_NOT_STARTED: {
    raisedBy: ['KafkaError'],
    meaning: 'A publish before the `KafkaResource` started or after it stopped.',
    action: 'Publish from a start hook of a resource that depends on it, or later, and not after the stop.',
  },
  KAFKA_PUBLISH_FAILED: {
    raisedBy: ['KafkaError'],
    meaning: 'The cluster refused a produce request.',
    action: 'Read `error.cause`; the record was not written.',
  },
  KAFKA_PUBLISH_TIMEOUT: {
    raisedBy: ['KafkaError'],
    meaning: 'The cluster did not acknowledge a record within `producer.publish_timeout_ms`.',
    action: 'Check the cluster; the record may still be written, so a retry may duplicate it.',
  },
  KAFKA_UNKNOWN_RESOURCE: {
    raisedBy: ['KafkaError'],
    meaning: "A `@consume` handler's `resource` names no `KafkaResource` of the service.",
    action: 'Name one of the Kafka resources the message lists.',
  },
  KAFKA_AMBIGUOUS_RESOURCE: {
    raisedBy: ['KafkaError'],
    meaning: 'A `@consume` handler names no `resource` while the service has several `KafkaResource`s.',
    action: 'Add `{ resource: name }` to the handler.',
  },
  KAFKA_HANDLER_TIMEOUT: {
    raisedBy: ['KafkaError'],
    meaning: 'A `@consume` handler did not settle within `consumer.handler_timeout_ms`.',
    action: 'The run counts as failed (retried, then dead-lettered); make the handler honour `meta.signal`.',
  },
  CODEC_UNKNOWN: {
    raisedBy: ['CodecError'],
    meaning: 'No codec is registered under that name.',
    action:
      "Use `json`, `yaml`, `raw`, or add it to the service's codecs: `providers: [{ provide: CODECS, useValue: new Codecs({ name: codec }) }]`.",
  },
  CODEC_UNKNOWN_CONTENT_TYPE: {
    raisedBy: ['CodecError'],
    meaning: "A message's content type matches no registered codec.",
    action: 'Register a codec for it, or send with a known codec.',
  },
  CODEC_ENCODE: {
    raisedBy: ['CodecError'],
    meaning: 'A codec could not encode the value.',
    action: 'Send a value the codec takes (`raw` takes Buffers).',
  },
  CODEC_DECODE: {
    raisedBy: ['CodecError'],
    meaning: 'A codec could not decode the bytes of a message.',
    action: 'Check what the sender encoded; the message is dead-lettered.',
  },
  CODEC_DUPLICATE: {
    raisedBy: ['CodecError'],
    meaning: 'Two codecs of one `Codecs` share a name or a content type (a built-in one included).',
    action: 'Give each codec its own name and content type.',
  },

  // PostgreSQL
  POSTGRES_MISSING_DEPENDENCY: {
    raisedBy: ['PostgresError'],
    meaning: 'pg is not installed.',
    action: '`npm install pg`.',
  },
  POSTGRES_CONNECT_FAILED: {
    raisedBy: ['PostgresError'],
    meaning: 'The server could not be reached or refused the login (`sqlState` says why, e.g. 28P01).',
    action: "Check the resource's `url` (or host, port, user, password) and that the server is up.",
  },
  POSTGRES_NOT_STARTED: {
    raisedBy: ['PostgresError'],
    meaning: 'A query before the `PostgresResource` started.',
    action: 'Query from a start hook of a resource that depends on it, or later.',
  },
  POSTGRES_STOPPED: {
    raisedBy: ['PostgresError'],
    meaning: 'A query after the `PostgresResource` began to stop.',
    action: 'Stop querying once the service stops.',
  },
  POSTGRES_POOL_TIMEOUT: {
    raisedBy: ['PostgresError'],
    meaning: 'Every connection of the pool stayed in use for `pool.acquire_timeout_ms`.',
    action: "Raise `pool.max` (within the server's max_connections), or shorten what holds connections.",
  },
  POSTGRES_QUERY_FAILED: {
    raisedBy: ['PostgresError'],
    meaning: 'The server refused a statement; `sqlState` is its SQLSTATE, `query` the name given.',
    action: 'Read the SQLSTATE (23505 unique violation, 57014 cancelled, ...).',
  },

  // Redis
  REDIS_MISSING_DEPENDENCY: {
    raisedBy: ['RedisError'],
    meaning: 'ioredis is not installed (a `RedisResource`, or `system.logging.redis`).',
    action: '`npm install ioredis`.',
  },
  REDIS_CONNECT_FAILED: {
    raisedBy: ['RedisError'],
    meaning:
      'The server (sentinels, cluster nodes) could not be reached or refused the login at start, or `nodes` is malformed.',
    action:
      "Check the resource's `mode`, `url` or `host`/`port`/`nodes`, the password, and that the servers are up.",
  },
  REDIS_NOT_STARTED: {
    raisedBy: ['RedisError'],
    meaning: 'A command before the `RedisResource` started, or after it stopped.',
    action: 'Send commands from a start hook of a resource that depends on it, or later, and not after stop.',
  },
  REDIS_TIMEOUT: {
    raisedBy: ['RedisError'],
    meaning: 'A command got no reply within `command_timeout_ms` (also one queued while disconnected).',
    action: 'Check the server and the connection (`/status`); raise `command_timeout_ms` for slow commands.',
  },
  REDIS_UNAVAILABLE: {
    raisedBy: ['RedisError'],
    meaning:
      'A command failed for want of a connection (closed, or `offline_queue: false` while disconnected).',
    action: 'Retry once the resource is `STARTED` again in `/status`.',
  },
  REDIS_COMMAND_FAILED: {
    raisedBy: ['RedisError'],
    meaning:
      'The server answered the command with an error; `reply` is its first word (`WRONGTYPE`, `NOAUTH`, ...).',
    action: 'Read the message: the command or its key is wrong.',
  },

  // Registry and discovery
  REGISTRY_NO_ETCD: {
    raisedBy: ['RegistryError'],
    meaning: 'The registry or discovery is enabled but `KEEL_ETCD_HOSTS` is not set.',
    action: 'Set `KEEL_ETCD_HOSTS`, or leave the resource disabled.',
  },
  REGISTRY_DUPLICATE_INSTANCE: {
    raisedBy: ['RegistryError'],
    meaning:
      "Another live process holds this instance's registry key: two instances share one `instance_id`. This one stays out of the registry (logged as an error, `status()` degraded) and takes the key once it is free.",
    action:
      'Give each process its own `instance_id` (do not copy identities between pods); stop the duplicate.',
  },
  DISCOVERY_NOT_STARTED: {
    raisedBy: ['RegistryError'],
    meaning: '`Discovery` was asked before it started.',
    action: 'Depend on `Discovery` so that it starts first.',
  },

  // Diagnostics
  DIAGNOSTICS_NOT_STARTED: {
    raisedBy: ['DiagnosticsError'],
    meaning: 'A heap snapshot was asked of a memory analyzer that is not running (disabled or stopped).',
    action: 'Enable `system.resources.memory_analyzer` and ask once it has started.',
  },
  DIAGNOSTICS_SNAPSHOT_IN_PROGRESS: {
    raisedBy: ['DiagnosticsError'],
    meaning:
      'A heap snapshot was asked while another is being written; answered 429 on `/debug/heap-snapshot`.',
    action: 'Ask again once the first is written (each blocks the event loop while V8 writes it).',
  },

  // Worker pool
  WORKER_POOL_NOT_STARTED: {
    raisedBy: ['WorkerPoolError'],
    meaning: 'A job before the pool started.',
    action: 'Run jobs from a start hook of a resource that depends on the pool, or later.',
  },
  WORKER_POOL_INVALID_STATE: {
    raisedBy: ['WorkerPoolError'],
    meaning: 'The pool was started a second time.',
    action: 'Start a pool once; a resource restart makes a new one.',
  },
  WORKER_POOL_STOPPED: {
    raisedBy: ['WorkerPoolError'],
    meaning: 'A job after the pool stopped, or cut off by its stop.',
    action: 'Stop sending jobs once the service stops.',
  },
  WORKER_QUEUE_FULL: {
    raisedBy: ['WorkerPoolError'],
    meaning: 'The queue of waiting jobs is at `max_queue`.',
    action: 'Shed load, or raise `max_queue` or `size`.',
  },
  WORKER_START_FAILED: {
    raisedBy: ['WorkerPoolError'],
    meaning: 'A worker thread did not start.',
    action: 'Read `error.cause`; check the task module path.',
  },
  WORKER_CRASHED: {
    raisedBy: ['WorkerPoolError'],
    meaning: 'The worker running the job exited.',
    action: 'Read `error.cause`; the pool starts a new worker.',
  },
  WORKER_NONE_LEFT: {
    raisedBy: ['WorkerPoolError'],
    meaning: 'Every worker died and none could be replaced.',
    action: 'Read the logged cause; restart the resource once fixed.',
  },
  WORKER_JOB_TERMINATED: {
    raisedBy: ['WorkerPoolError'],
    meaning: 'The pool stopped and the job did not finish within `stop_timeout_ms`.',
    action: 'Make the job shorter, or raise `stop_timeout_ms`.',
  },
  WORKER_DATA_CLONE: {
    raisedBy: ['WorkerPoolError'],
    meaning: "A job's argument or result cannot be copied between threads.",
    action: 'Pass plain data (structured-clone values).',
  },
  WORKER_INVALID_TASK: {
    raisedBy: ['WorkerPoolError'],
    meaning: 'The task module has no function under that export name.',
    action: 'Check `defineWorkerTask(modulePath, exportName)`.',
  },
  WORKER_TASK_FAILED: {
    raisedBy: ['WorkerTaskError'],
    meaning: "The task threw in its worker; message and stack are the worker's own.",
    action: 'Read `error.remoteName` and `error.remoteCode`; the fault is in the task.',
  },

  // The keel command
  CLI_USAGE: {
    raisedBy: ['UsageError'],
    meaning: 'The command was called wrongly; it prints its usage and exits 2.',
    action: 'Follow the usage, or `keel help <command>`.',
  },
  CLI_LOADER_MISSING: {
    raisedBy: ['CliError'],
    meaning: 'A TypeScript file was given but `@swc-node/register` is not installed.',
    action: '`npm install -D @swc-node/register`, or run the compiled JavaScript.',
  },
  CLI_LOAD_FAILED: {
    raisedBy: ['CliError'],
    meaning: 'The service file threw while it was loaded.',
    action: 'Read the cause; run the file with node to see it alone.',
  },
  CLI_NO_SERVICE: {
    raisedBy: ['CliError'],
    meaning: 'The file exports no `@microservice` class.',
    action: 'Export the service class from the file.',
  },
  CLI_UNREACHABLE: {
    raisedBy: ['CliError'],
    meaning: 'The report server did not answer, or answered without a Keel status document.',
    action: 'Check the address and that the service is up.',
  },
  CLI_TARGET_NOT_EMPTY: {
    raisedBy: ['CliError'],
    meaning: '`keel new` was pointed at a folder that is not empty.',
    action: 'Pick a new folder.',
  },
  CLI_BAD_NAME: {
    raisedBy: ['CliError'],
    meaning: '`keel new` was given a name that is not a valid service name.',
    action: 'Use lowercase letters, digits and `_`, starting with a letter (or choose one with `--name`).',
  },
  CLI_PUSH_TOO_LARGE: {
    raisedBy: ['CliError'],
    meaning:
      "etcd refused `keel settings push`'s one transaction: more operations than its `--max-txn-ops` (128 by default) or bytes than `--max-request-bytes`; nothing was written.",
    action: 'Raise those limits on etcd, push smaller files, or pass `--in-parts` (not atomic).',
  },
  CLI_PUSH_CONFLICT: {
    raisedBy: ['CliError'],
    meaning:
      'Keys under the prefix changed between the read and the write of `keel settings push`; nothing was written.',
    action: 'Run the push again.',
  },
  CLI_PUSH_PARTIAL: {
    raisedBy: ['CliError'],
    meaning:
      '`keel settings push --in-parts` failed part way; the message says how many operations were written.',
    action: 'Fix what etcd said and push again: it writes only what still differs.',
  },
  CLI_NO_HTTP_SERVER: {
    raisedBy: ['CliError'],
    meaning: '`keel openapi` was given a service that has no `HttpServerResource`.',
    action: 'Point it at the service that serves the routes.',
  },
  CONTRACT_MISSING_DEPENDENCY: {
    raisedBy: ['ContractError'],
    meaning: 'A schema was declared but ajv or ajv-formats (dependencies of Keel) cannot be loaded.',
    action: '`npm install ajv ajv-formats`; check that the install is complete.',
  },
  CONTRACT_INVALID_SCHEMA: {
    raisedBy: ['ContractError'],
    meaning:
      'A route or message schema is not valid JSON Schema; the message names the route or handler and part.',
    action: 'Fix the schema (ajv names the keyword it refused).',
  },
  CONTRACT_INVALID_MESSAGE: {
    raisedBy: ['ContractError'],
    meaning:
      'A message to publish, push or request does not match its schema (checked outside production); `problems` lists each pointer.',
    action: 'Send a message the schema accepts, or change the schema.',
  },
  HTTP_RESPONSE_MISMATCH: {
    raisedBy: ['ResponseContractError'],
    meaning:
      "A route answered with a body that does not match its status's response schema (checked outside production); the client got a 500.",
    action: 'Read the logged route and pointers; fix the handler or the schema.',
  },
  TRACING_MISSING_PACKAGE: {
    raisedBy: ['TracingError'],
    meaning:
      '`system.tracing.enabled` is true, but an OpenTelemetry package it needs (the SDK, or the chosen exporter) is not installed.',
    action: 'Install the package the message names (`npm install @opentelemetry/...`), or turn tracing off.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type KeelErrorCode = keyof typeof ERROR_CODES;

/** The codes the table lists for one class, e.g. `CodesOf<'GraphError'>`. */
export type CodesOf<Raiser extends string> = {
  [Code in KeelErrorCode]: Raiser extends (typeof ERROR_CODES)[Code]['raisedBy'][number] ? Code : never;
}[KeelErrorCode];

/** What a code means and what to do about it, as the README's error table says. */
export function errorCodeInfo(code: KeelErrorCode): ErrorCodeInfo {
  return ERROR_CODES[code];
}
