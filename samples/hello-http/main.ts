import { run } from '../../lib';
import { HelloHttp } from './service';

void run(HelloHttp);
