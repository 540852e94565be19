// Wires the Graph corner (graph.ts) onto the main origin under Graph's host names and adds those
// names to the routes the proxy and the Node preload serve.
import type { ModuleSetup } from '../server/context.js';
import { AAD_GRAPH_HOST, GraphApi, MS_GRAPH_HOST } from './graph.js';

export const setupGraph: ModuleSetup = (ctx) => {
  const graph = new GraphApi(ctx.tokens, ctx.directory);
  ctx.originRoutes.push({ matches: (req) => graph.matches(req), handle: (req, res) => graph.handle(req, res) });
  ctx.onReady.push((origin) => {
    const target = `127.0.0.1:${new URL(origin).port}`;
    ctx.routes[MS_GRAPH_HOST] = target;
    ctx.routes[AAD_GRAPH_HOST] = target;
  });
};
