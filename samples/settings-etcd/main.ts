import { run } from '../../lib';
import { AnnouncerService } from './service';

// Settings come from etcd when KEEL_ETCD_HOSTS is set (see README.md), else from the schema defaults.
void run(AnnouncerService);
