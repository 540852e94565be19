// What the composition root hands to each module's `setup` function, and what a module can
// register in return: resource-type hooks, ARM extension namespaces, request handlers on the
// main HTTPS origin, extra listeners, and cleanup.
import type { Store } from '../store/types.js';
import type { Sealer } from '../crypto/masterKey.js';
import type { TlsMaterial } from '../crypto/ca.js';
import type { TenantInfo } from '../directory/types.js';
import type { Directory } from '../directory/directory.js';
import type { KeyRing } from '../sts/signingKeys.js';
import type { TokenService } from '../sts/tokens.js';
import type { ResourceRegistry } from '../sts/resources.js';
import type { TokenEndpoint } from '../sts/tokenEndpoint.js';
import type { ArmService } from '../arm/service.js';
import type { ArmRouter } from '../arm/router.js';
import type { ResourceTypeRegistry } from '../arm/resourceTypes.js';
import type { Handler, Request } from './http.js';
import type { AuthzEngine } from '../authz/index.js';
import type { UsageSink } from '../advisor/usage.js';
import type { Server as NetServer } from 'node:net';
import type { FaultInjector } from './faults.js';
import type { AzureThrottle, ThrottleMode } from './throttle.js';

export interface OriginRoute {
  /** Whether this module serves the request (by host and/or path). */
  matches(req: Request): boolean;
  handle: Handler;
}

export interface AppContext {
  dataDir: string;
  /** Port asked for the main origin; 0 means every listener takes a free port. */
  requestedPort: number;
  host: string;
  env: NodeJS.ProcessEnv;
  store: Store;
  sealer: Sealer;
  tls: TlsMaterial;
  tenant: TenantInfo;
  directory: Directory;
  keys: KeyRing;
  tokens: TokenService;
  /** Audiences the token service accepts. */
  resources: ResourceRegistry;
  tokenEndpoint: TokenEndpoint;
  arm: ArmService;
  armRouter: ArmRouter;
  types: ResourceTypeRegistry;
  /** The RBAC engine every service asks (built-in roles loaded; assignments fed from the store). */
  authz: AuthzEngine;
  /** Where every service notes its authorization decisions (the access advisor's usage record). */
  usage: UsageSink;

  /** Routes checked, in order, before the token service and Resource Manager on the main origin. */
  originRoutes: OriginRoute[];
  /** Named listener URLs printed at start and written to endpoints.json (e.g. imds). */
  listeners: Record<string, string>;
  /** Azure host name patterns (`name` or `*.suffix`) and the local `host:port` serving them. */
  routes: Record<string, string>;
  /**
   * This process's TLS listeners by the `host:port` that `routes` names, so the proxy can hand a
   * tunnelled connection straight to the listener instead of copying its bytes.
   */
  localServers: Record<string, NetServer>;
  /** Transient faults injected on request (`mimic fault add`); none by default. */
  faults: FaultInjector;
  /** `azure` applies Azure's documented request limits (`mimic start --throttle azure`). */
  throttle: ThrottleMode;
  /** Azure's request limits when `throttle` is `azure`; undefined (nothing to check) when off. */
  throttler?: AzureThrottle;
  /** Run at shutdown, in reverse order of registration. */
  onClose: Array<() => Promise<void> | void>;
  /** The main origin (https://localhost:PORT); known once it listens, before modules' `ready` hooks. */
  origin?: string;
  /** Run after the main origin listens (e.g. to compute URLs that need its port). */
  onReady: Array<(origin: string) => Promise<void> | void>;
  /** The main origin's request handler, for in-process requests (template deployments); set before `onReady`. */
  handle?: Handler;
  /** Handlers of the extra listeners by name (as in `listeners`), for in-process requests (the fuzz targets). */
  listenerHandlers?: Record<string, Handler>;
}

/** Every module exposes one of these; the composition root calls them in order. */
export type ModuleSetup = (ctx: AppContext) => Promise<void> | void;
