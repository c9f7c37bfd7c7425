// Remote pinning: asking a pinning service to pin a root this node provides, listing and
// removing what it pins.
import type { OnProgress, RemotePin, RemoteService } from '../api.ts'
import { RemotePinning } from '../remote-pins.ts'
import type { LocalContext } from './context.ts'
import { rootOf } from './refs.ts'

export async function remotePinAdd(
  ctx: LocalContext,
  request: RemoteService & { target: string; name?: string; background?: boolean; timeoutMs?: number },
  onProgress?: OnProgress,
): Promise<RemotePin> {
  const node = ctx.needNode('pinning to a remote service (it fetches the blocks from this node)')
  const cid = await rootOf(ctx, request.target)
  return new RemotePinning(request).add(node, cid, request, onProgress, (delegate, err) =>
    ctx.init.log?.warn({ delegate, err }, 'the pinning service named a delegate that cannot be dialled'),
  )
}

export function remotePinList(
  request: RemoteService & { status?: readonly string[]; cid?: string; name?: string },
): Promise<RemotePin[]> {
  return new RemotePinning(request).list(request)
}

export function remotePinRemove(request: RemoteService & { target: string }): Promise<{ removed: string[] }> {
  return new RemotePinning(request).remove(request.target)
}
