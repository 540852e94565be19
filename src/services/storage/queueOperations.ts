// Queue service requests -> the RBAC permission each needs. Sending a message is granted by
// `messages/add/action` (Message Sender) or `messages/write` (Contributor); receiving
// (dequeue) needs `messages/process/action`, peeking `messages/read`; deleting a received
// message is allowed by `messages/delete` or `messages/process/action` (Message Processor).
import type { AttributeValue } from '../../authz/index.js';
import { ATTR, environment, resource } from './attributes.js';
import { childScope, queryParam, serviceScope, single, STORAGE_NS, type Grant, type Operation, type Target } from './operation.js';

const Q = `${STORAGE_NS}/queueServices`;
export const QUEUE_ACTIONS = {
  serviceRead: `${Q}/read`,
  serviceWrite: `${Q}/write`,
  userDelegationKey: `${Q}/generateUserDelegationKey/action`,
  queueRead: `${Q}/queues/read`,
  queueWrite: `${Q}/queues/write`,
  queueDelete: `${Q}/queues/delete`,
  read: `${Q}/queues/messages/read`,
  write: `${Q}/queues/messages/write`,
  delete: `${Q}/queues/messages/delete`,
  add: `${Q}/queues/messages/add/action`,
  process: `${Q}/queues/messages/process/action`,
} as const;
const A = QUEUE_ACTIONS;

function attributes(t: Target, queue?: string): Record<string, AttributeValue> {
  const attrs: Record<string, AttributeValue> = {
    [resource(ATTR.accountName)]: t.account.name,
    [environment('isPrivateLink')]: false,
    [environment('UtcNow')]: new Date(),
  };
  if (queue !== undefined) attrs[resource(ATTR.queueName)] = queue;
  return attrs;
}

export function classifyQueue(t: Target): Operation {
  const comp = queryParam(t.query, 'comp')?.toLowerCase();
  const restype = queryParam(t.query, 'restype')?.toLowerCase();
  const m = t.method;
  if (!t.first) {
    const check = (grants: Grant[]) => ({ grants, scope: serviceScope(t.account, 'queue'), attributes: attributes(t) });
    if (restype === 'service' && comp === 'properties') {
      if (m === 'GET') return { name: 'GetQueueServiceProperties', check: check(single(A.serviceRead)) };
      if (m === 'PUT') return { name: 'SetQueueServiceProperties', check: check(single(A.serviceWrite)) };
    }
    if (restype === 'service' && comp === 'stats' && m === 'GET') return { name: 'GetQueueServiceStats', check: check(single(A.serviceRead)) };
    if (restype === 'service' && comp === 'userdelegationkey' && m === 'POST') return { name: 'GetUserDelegationKey', check: check(single(A.userDelegationKey)) };
    if (comp === 'list' && m === 'GET') return { name: 'ListQueues', check: check(single(A.queueRead)) };
    return { name: 'Unknown' };
  }
  const queue = t.first;
  const check = (grants: Grant[]) => ({ grants, scope: childScope(t.account, 'queue', queue), attributes: attributes(t, queue) });
  const rest = t.rest ?? '';
  if (rest === '') {
    if (comp === undefined) {
      if (m === 'PUT') return { name: 'CreateQueue', check: check(single(A.queueWrite)), mirror: { kind: 'queue', name: queue, action: 'create', statuses: [201, 204] } };
      if (m === 'DELETE') return { name: 'DeleteQueue', check: check(single(A.queueDelete)), mirror: { kind: 'queue', name: queue, action: 'delete', statuses: [204] } };
    }
    if (comp === 'metadata') {
      if (m === 'GET' || m === 'HEAD') return { name: 'GetQueueMetadata', check: check(single(A.queueRead)) };
      if (m === 'PUT') return { name: 'SetQueueMetadata', check: check(single(A.queueWrite)) };
    }
    if (comp === 'acl') return { name: m === 'PUT' ? 'SetQueueACL' : 'GetQueueACL' };
    return { name: 'Unknown' };
  }
  const parts = rest.split('/');
  if (parts[0] !== 'messages' || parts.length > 2) return { name: 'Unknown' };
  if (parts.length === 1 || parts[1] === '') {
    if (m === 'POST') return { name: 'PutMessage', check: check([{ actions: [A.add] }, { actions: [A.write] }]) };
    if (m === 'GET') {
      return queryParam(t.query, 'peekonly')?.toLowerCase() === 'true' ? { name: 'PeekMessages', check: check(single(A.read)) } : { name: 'GetMessages', check: check(single(A.process)) };
    }
    if (m === 'DELETE') return { name: 'ClearMessages', check: check(single(A.delete)) };
    return { name: 'Unknown' };
  }
  if (m === 'DELETE') return { name: 'DeleteMessage', check: check([{ actions: [A.delete] }, { actions: [A.process] }]) };
  if (m === 'PUT') return { name: 'UpdateMessage', check: check(single(A.write)) };
  return { name: 'Unknown' };
}
