// Wires the access advisor: opens the usage record, makes it the sink every service notes its
// decisions to (so it must run before the modules that build authorizers), flushes it at
// shutdown, and serves `Mimic.Advisor` on the Resource Manager.
//   MIMIC_ADVISOR_RECORD=off            no recording (decisions cost nothing extra)
//   MIMIC_ADVISOR_MAX_ENTRIES=N         stored (principal, action, scope) rows (default 200,000)
//   MIMIC_ADVISOR_FLUSH_MS=N            flush period (default 2,000)
//   MIMIC_ADVISOR_SCOPE_THRESHOLD=N     more scopes than this under one parent collapse to it (3)
//   MIMIC_ADVISOR_NAMING_PATTERN=RE     the identity naming convention
import type { ModuleSetup } from '../server/context.js';
import { authorizationOf } from '../arm/authorization/setup.js';
import { Advisor, ADVISOR_NAMESPACE, advisorExtension } from './api.js';
import { UsageRecorder } from './usage.js';

function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) && n > 0 ? n : undefined;
}

export const setupAdvisor: ModuleSetup = async (ctx) => {
  const env = ctx.env;
  const maxEntries = positive(env.MIMIC_ADVISOR_MAX_ENTRIES);
  const flushMs = positive(env.MIMIC_ADVISOR_FLUSH_MS);
  const usage = await UsageRecorder.open(ctx.store, {
    enabled: (env.MIMIC_ADVISOR_RECORD ?? 'on').toLowerCase() !== 'off',
    ...(maxEntries ? { maxEntries } : {}),
    ...(flushMs ? { flushMs } : {}),
  });
  ctx.usage = usage;
  ctx.onClose.push(() => usage.close());
  const advisor = new Advisor(ctx, usage, () => authorizationOf(ctx));
  ctx.armRouter.registerExtension(ADVISOR_NAMESPACE, advisorExtension(ctx, advisor, usage));
};
