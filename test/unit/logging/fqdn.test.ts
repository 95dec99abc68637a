import os from 'node:os';
import dns from 'node:dns/promises';
import { fullyQualifiedHostName } from '../../../lib/logging/fqdn';

jest.mock('node:dns/promises', () => ({ lookup: jest.fn(), lookupService: jest.fn() }));

const lookup = dns.lookup as unknown as jest.Mock;
const lookupService = dns.lookupService as unknown as jest.Mock;

describe('fullyQualifiedHostName', () => {
  it("asks DNS for the name of this host's address", async () => {
    lookup.mockResolvedValue({ address: '10.0.0.7', family: 4 });
    lookupService.mockResolvedValue({ hostname: 'api-1.prod.example.internal', service: '0' });
    await expect(fullyQualifiedHostName()).resolves.toBe('api-1.prod.example.internal');
    expect(lookup).toHaveBeenCalledWith(os.hostname());
    expect(lookupService).toHaveBeenCalledWith('10.0.0.7', 0);
  });

  it('answers the short host name when DNS cannot tell', async () => {
    lookup.mockRejectedValue(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    await expect(fullyQualifiedHostName()).resolves.toBe(os.hostname());
  });
});
