import { run } from '../../lib';
import { MetricsSample } from './service';

// The report server logs the address it bound (`report server on http://127.0.0.1:PORT`).
void run(MetricsSample);
