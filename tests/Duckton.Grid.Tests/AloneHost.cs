using Duckton.Core.Protocol;
using Duckton.Node.Grid;

namespace Duckton.Grid.Tests;

/// <summary>A host's collaborators when it is alone: no deny-list, receipts, gossip or adverts (for in-process wire tests).</summary>
internal sealed class AloneHost : IDenyList, IReceiptSink, IGossipParticipant, IAdvertExchange
{
    public bool IsBlocked(string nodeId) => false;
    public int Issue(string jobId, string queryHash, IReadOnlyList<HostVerdict> verdicts) => 0;
    public void IngestReceipt(ReadOnlyMemory<byte> payload, string fromPeer) { }
    public IReadOnlyList<byte[]> ReceiptsToShare(string? peerNodeId) => [];
    public (ulong Count, byte[] Digest) ReceiptSummary() => (0, new byte[32]);
    public void IngestVouch(ReadOnlyMemory<byte> payload, string fromPeer) { }
    public IReadOnlyList<byte[]> VouchesToShare() => [];
    public void IngestAdvert(AdvertMessage advert, string fromPeer) { }
    public IReadOnlyList<AdvertMessage> AdvertsToShare() => [];

    public Task<bool> ProbeForAsync(string nodeId, string address, TimeSpan timeout, string fromPeer, CancellationToken cancellationToken) => Task.FromResult(false);
}
