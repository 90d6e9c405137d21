using Duckton.Core.Protocol;
using Duckton.Transport;
using CoreConfig = Duckton.Core.Configuration;

namespace Duckton.Node.Grid;

/// <summary>
/// Failure detection (<c>[liveness]</c>): every gossip round, a peer whose silence is unlikely given its own rhythm
/// (phi above <c>liveness.phi.convict_threshold</c>) and whose last direct contact failed is pinged directly; if it does not answer, up to
/// <c>liveness.swim.indirect_probe_count</c> other hosts are asked to ping it (SWIM), so a slow link between two nodes
/// does not convict a healthy peer. Unreachable by all, it is marked <see cref="PeerState.Dead"/>: shown as dead by
/// <c>p2p_peers()</c> and never selected, until it is heard from again.
/// </summary>
public sealed partial class GridRuntime
{
    private async Task DetectFailuresAsync(CoreConfig.NodeConfig config, CancellationToken cancellationToken)
    {
        var phi = config.Liveness.Phi;
        var swim = config.Liveness.Swim;
        Membership.Phi = new PhiOptions(phi.WindowSize, TimeSpan.FromMilliseconds(phi.MinStdMs), TimeSpan.FromMilliseconds(phi.AcceptablePauseMs),
            TimeSpan.FromMilliseconds(phi.FirstIntervalMs));
        if (!phi.Enabled)
        {
            return;
        }
        var peers = Membership.Live().Where(p => p.NodeId != Identity.NodeId && p.State != PeerState.Dead).ToList();
        // Probed only when both say so: silence beyond the peer's rhythm, and a direct contact that failed. Relayed adverts
        // arrive at the signer's refresh interval, not ours, so phi alone would suspect healthy peers we never contacted.
        var silent = peers.Where(p => p.ConsecutiveFailures > 0 && Membership.PhiOf(p.NodeId) > phi.ConvictThreshold).ToList();
        await Task.WhenAll(silent.Select(async suspect =>
        {
            if (await PingAsync(suspect.Address, suspect.NodeId, swim.ProbeTimeout, cancellationToken).ConfigureAwait(false))
            {
                Membership.ObserveContact(suspect.NodeId, null);
                return;
            }
            if (swim.Enabled && swim.IndirectProbeCount > 0)
            {
                var helpers = peers.Where(p => p.NodeId != suspect.NodeId && p.State == PeerState.Alive && p.Advert.Enabled)
                    .OrderBy(_ => Random.Shared.Next()).Take(swim.IndirectProbeCount).ToList();
                var answers = await Task.WhenAll(helpers.Select(h => ProbeThroughAsync(h, suspect, swim.IndirectProbeTimeout, cancellationToken))).ConfigureAwait(false);
                if (answers.Any(reached => reached))
                {
                    Membership.MarkSuspect(suspect.NodeId);
                    return;
                }
            }
            Membership.MarkDead(suspect.NodeId);
            _logger.PeerConvicted(suspect.NodeId, Membership.PhiOf(suspect.NodeId));
        })).ConfigureAwait(false);
    }

    /// <summary>Pings a peer on a pooled connection; true when its Pong came back within <paramref name="timeout"/>.</summary>
    private async Task<bool> PingAsync(string address, string nodeId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        PeerConnection? c = null;
        try
        {
            c = await Pool.RentAsync(address, nodeId, cts.Token).ConfigureAwait(false);
            var nonce = (ulong)Random.Shared.NextInt64();
            await c.SendAsync(MessageType.Ping, new PingMessage(nonce, (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds()).Encode(), cts.Token).ConfigureAwait(false);
            while (true)
            {
                var f = await c.ReceiveAsync(cts.Token).ConfigureAwait(false);
                if (f.Type == MessageType.Pong && PingMessage.Decode(f.Payload.Span).Nonce == nonce)
                {
                    Pool.Return(c);
                    c = null;
                    return true;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
        finally
        {
            if (c is not null)
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Asks <paramref name="helper"/> to ping <paramref name="suspect"/> for us.</summary>
    private async Task<bool> ProbeThroughAsync(PeerEntry helper, PeerEntry suspect, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout + timeout);
        PeerConnection? c = null;
        try
        {
            c = await Pool.RentAsync(helper.Address, helper.NodeId, cts.Token).ConfigureAwait(false);
            var nonce = (ulong)Random.Shared.NextInt64();
            var request = new ProbeRequestMessage(nonce, suspect.NodeId, suspect.Address, (uint)Math.Clamp(timeout.TotalMilliseconds, 1, uint.MaxValue));
            await c.SendAsync(MessageType.ProbeRequest, request.Encode(), cts.Token).ConfigureAwait(false);
            while (true)
            {
                var f = await c.ReceiveAsync(cts.Token).ConfigureAwait(false);
                if (f.Type == MessageType.ProbeResult && ProbeResultMessage.Decode(f.Payload.Span) is { } result && result.Nonce == nonce)
                {
                    Pool.Return(c);
                    c = null;
                    return result.Reached;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
        finally
        {
            if (c is not null)
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
