import { run } from '../../lib';
import { LiveTicks } from './service';

void run(LiveTicks);
