import { enableCompileCache } from './compile-cache';

// Required first by the `keel` command (bin/keel.js, dist's cli/main.js): a cache turned on later
// would miss Keel's own modules and the service's, which the command loads before it calls run().
enableCompileCache();
