// The `@connectauth/node/redis` entry point: a revocation list and a DPoP replay store shared by a fleet
// through Redis, apart from the main entry so that only who uses Redis loads this code. The clients
// (`redis`, `ioredis`) are optional peers: the adapters take the client you created.
export {
  type IoredisClient,
  type NodeRedisClient,
  type RedisConnection,
  fromIoredis,
  fromNodeRedis,
} from "./redis-client.js";
export { type RedisFault, ReplayStoreUnavailableError, RevocationNotStoredError } from "./redis-errors.js";
export { type RedisReplayStore, type RedisReplayStoreOptions, createRedisReplayStore } from "./redis-replay-store.js";
export {
  type RedisRevocationEvent,
  type RedisRevocationFault,
  type RedisRevocationList,
  type RedisRevocationListOptions,
  createRedisRevocationList,
} from "./redis-revocation-list.js";
