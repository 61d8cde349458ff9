/** The full endpoint table the double serves; anything else is a Fastify 404 like Misskey's. */
import { adminExtraEndpoints } from './ep-admin-extra';
import type { AnyEndpoint } from './endpoint-kit';
import { driveEndpoints } from './ep-drive';
import { federationEndpoints } from './ep-federation';
import { metaEndpoints } from './ep-meta';
import { queueEndpoints } from './ep-queue';
import { userEndpoints } from './ep-users';

export const endpoints: readonly AnyEndpoint[] = [
  ...metaEndpoints,
  ...userEndpoints,
  ...federationEndpoints,
  ...driveEndpoints,
  ...queueEndpoints,
  ...adminExtraEndpoints,
];
