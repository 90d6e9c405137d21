using System.Collections.Concurrent;
using Duckton.Core.Trust;
using Duckton.Node.Grid;

namespace Duckton.Node.Trust;

// The trust engine, part: receipt and vouch gossip, delivery to the hosts they are about, and the hidden-receipt check.
public sealed partial class TrustEngine
{
    // ---------------------------------------------------------------- receipt gossip and the hidden-receipt check

    private const int RecentReceipts = 32;

    /// <summary>How long receipts about one host are gathered before they are delivered to it in one batch.</summary>
    public static readonly TimeSpan DeliveryCoalescing = TimeSpan.FromMilliseconds(200);
    private readonly ConcurrentDictionary<string, byte> _deliveryScheduled = new(StringComparer.Ordinal);
    private static readonly TimeSpan s_deliverySlack = TimeSpan.FromSeconds(2);
    private readonly Queue<Receipt> _recent = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Receipt>> _undelivered = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<ulong, long>> _delivered = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _deliveryGates = new(StringComparer.Ordinal);

    /// <summary>The grid this engine delivers receipts over (set by the node when the grid starts).</summary>
    public GridRuntime? Grid { get; set; }

    /// <summary>Gossip counters: receipts accepted, replays ignored, forged/tampered/unbound ones rejected.</summary>
    public long GossipAccepted => Interlocked.Read(ref _receiptGossip.Accepted);
    public long GossipReplayed => Interlocked.Read(ref _receiptGossip.Replayed);
    public long GossipRejected => Interlocked.Read(ref _receiptGossip.Rejected);

    /// <summary>The receipts this node pushes on a gossip exchange: the most recent ones it issued.</summary>
    public IReadOnlyList<byte[]> ReceiptsToShare()
    {
        lock (_recent)
        {
            return [.. _recent.Select(Duckton.Core.Protocol.ReceiptMessage.Encode)];
        }
    }

    /// <summary>
    /// Verifies and stores a gossiped receipt: decodes, checks the requester's signature and that requester_id is
    /// bound to its key, refuses self-issued receipts and blocked requesters, dedups replays through the store.
    /// Returns "accepted", "replay" or "rejected: why".
    /// </summary>
    public string IngestReceipt(ReadOnlySpan<byte> payload, string fromPeer) =>
        Ingest(payload, Duckton.Core.Protocol.ReceiptMessage.Decode, "receipt", _receiptGossip,
            receipt => receipt.Problem()
                ?? (receipt.WorkerId == receipt.RequesterId ? "self-issued receipt" : null)
                ?? (IsBlocked(receipt.RequesterId) || IsBlocked(fromPeer) ? "requester or sender is blocked" : null),
            receipt => Store.AddReceipt(receipt, alreadyChecked: true)); // its signature was just verified by the check above

    private delegate T SpanDecoder<out T>(ReadOnlySpan<byte> payload);

    /// <summary>Accepted / replayed / rejected counts of one kind of gossiped signed message.</summary>
    private sealed class GossipCounters
    {
        public long Accepted;
        public long Replayed;
        public long Rejected;
    }

    private readonly GossipCounters _receiptGossip = new();
    private readonly GossipCounters _vouchGossip = new();

    /// <summary>
    /// The common path of a gossiped signed message: decode (malformed = rejected), check (a reason = rejected), store
    /// (false = replay). Returns "accepted", "replay" or "rejected: why" and counts the outcome.
    /// </summary>
    private static string Ingest<T>(ReadOnlySpan<byte> payload, SpanDecoder<T> decode, string kind, GossipCounters counters, Func<T, string?> check, Func<T, bool> store)
    {
        T message;
        try
        {
            message = decode(payload);
        }
        catch (Exception e) when (e is Duckton.Core.Protocol.ProtocolException or ArgumentException or FormatException)
        {
            Interlocked.Increment(ref counters.Rejected);
            return "rejected: malformed " + kind;
        }
        if (check(message) is { } problem)
        {
            Interlocked.Increment(ref counters.Rejected);
            return "rejected: " + problem;
        }
        if (!store(message))
        {
            Interlocked.Increment(ref counters.Replayed);
            return "replay";
        }
        Interlocked.Increment(ref counters.Accepted);
        return "accepted";
    }

    /// <summary>
    /// Delivers the receipts about <paramref name="workerId"/> it has not seen yet to that host, then waits for a Pong:
    /// the host handles frames in order, so the Pong proves it processed them. Delivered receipts are what the
    /// hidden-receipt check holds the host's advert to.
    /// </summary>
    public async Task DeliverAsync(GridRuntime grid, string workerId)
    {
        if (!_undelivered.TryGetValue(workerId, out var queue) || queue.IsEmpty || grid.Membership.Find(workerId) is not { } peer)
        {
            return;
        }
        var gate = _deliveryGates.GetOrAdd(workerId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync().ConfigureAwait(false);
        Duckton.Transport.PeerConnection? c = null;
        var batch = new List<Receipt>();
        try
        {
            while (queue.TryDequeue(out var r))
            {
                batch.Add(r);
            }
            if (batch.Count == 0)
            {
                return;
            }
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            c = await grid.Pool.RentAsync(peer.Address, workerId, cts.Token).ConfigureAwait(false);
            foreach (var r in batch)
            {
                await c.SendAsync(Duckton.Transport.MessageType.Receipt, Duckton.Core.Protocol.ReceiptMessage.Encode(r), cts.Token).ConfigureAwait(false);
            }
            var nonce = (ulong)Random.Shared.NextInt64();
            await c.SendAsync(Duckton.Transport.MessageType.Ping, new Duckton.Core.Protocol.PingMessage(nonce, 0).Encode(), cts.Token).ConfigureAwait(false);
            while (true)
            {
                var f = await c.ReceiveAsync(cts.Token).ConfigureAwait(false);
                if (f.Type == Duckton.Transport.MessageType.Pong && Duckton.Core.Protocol.PingMessage.Decode(f.Payload.Span).Nonce == nonce)
                {
                    break;
                }
            }
            NoteDelivered(workerId, batch.Select(r => r.ReplayFingerprint()));
            grid.Pool.Return(c);
            c = null;
        }
        catch (Exception)
        {
            foreach (var r in batch)
            {
                queue.Enqueue(r); // retried with the next receipt about this host
            }
        }
        finally
        {
            if (c is not null)
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
            gate.Release();
        }
    }

    /// <summary>The (count, digest) of receipts about this node that it holds, for its own advert (see <see cref="Duckton.Core.Protocol.AdvertMessage.ReceiptDigest"/>).</summary>
    public (ulong Count, byte[] Digest) OwnReceiptSummary()
    {
        var fps = Store.ReplayFingerprints(_identity.NodeId);
        return ((ulong)fps.Count, Digest(fps));
    }


    /// <summary>BLAKE3("duckton-receipts-digest-v1" ‖ fingerprints as u64 LE, ascending); 32 zero bytes for none.</summary>
    public static byte[] Digest(IEnumerable<ulong> fingerprints)
    {
        var sorted = fingerprints.Order().ToList();
        if (sorted.Count == 0)
        {
            return new byte[32];
        }
        var domain = "duckton-receipts-digest-v1"u8;
        var buffer = new byte[domain.Length + (8 * sorted.Count)];
        domain.CopyTo(buffer);
        for (var i = 0; i < sorted.Count; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(domain.Length + (8 * i)), sorted[i]);
        }
        return Duckton.Core.Hashing.Blake3.Hash(buffer);
    }

    /// <summary>
    /// Holds a host's advert to the receipts this node delivered to it (acknowledged) before the advert was signed
    /// (less a 2 s slack): the advertised count must be at least that many, and when it is exactly that many the digest
    /// must match. Otherwise the host hides receipts about itself: it is flagged and its trust counts as 0.
    /// </summary>
    public string? CheckReceiptDigest(Duckton.Core.Protocol.AdvertMessage advert)
    {
        if (!_delivered.TryGetValue(advert.NodeId, out var delivered) || delivered.IsEmpty)
        {
            return null;
        }
        // The verdict depends only on the receipts delivered up to the advert's cutoff, and a delivery is stamped with this
        // node's clock when it is acknowledged: once that clock has passed the cutoff, no later delivery falls before it,
        // so one check per advert is exact. A check reads every receipt ever delivered to the host; checking again after
        // each delivery (as this did: up to five a second per host while it works) cost a busy requester more and more
        // CPU as its history grew (44 ms per check at 300,000 receipts delivered).
        if (_digestChecked.TryGetValue(advert.NodeId, out var last) && last.TimestampMs == advert.TimestampMs && last.Settled)
        {
            return last.Why;
        }
        var cutoff = Cutoff(advert);
        var settled = _time.GetUtcNow().ToUnixTimeMilliseconds() > cutoff; // read before the deliveries: one stamped later is after the cutoff
        var why = CheckDigestNow(advert, delivered, cutoff);
        _digestChecked[advert.NodeId] = (advert.TimestampMs, settled, why);
        return why;
    }

    /// <summary>Records receipts about <paramref name="workerId"/> as delivered to it (acknowledged) now.</summary>
    internal void NoteDelivered(string workerId, IEnumerable<ulong> fingerprints)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var delivered = _delivered.GetOrAdd(workerId, _ => new ConcurrentDictionary<ulong, long>());
        foreach (var fp in fingerprints)
        {
            delivered.TryAdd(fp, now);
        }
    }

    private readonly ConcurrentDictionary<string, (ulong TimestampMs, bool Settled, string? Why)> _digestChecked = new(StringComparer.Ordinal);

    private static long Cutoff(Duckton.Core.Protocol.AdvertMessage advert) =>
        (long)Math.Min(advert.TimestampMs, long.MaxValue) - (long)s_deliverySlack.TotalMilliseconds;

    private string? CheckDigestNow(Duckton.Core.Protocol.AdvertMessage advert, ConcurrentDictionary<ulong, long> delivered, long cutoff)
    {
        var due = delivered.Where(kv => kv.Value <= cutoff).Select(kv => kv.Key).ToList();
        string? why = null;
        if (advert.ReceiptCount < (ulong)due.Count)
        {
            why = $"advertises {advert.ReceiptCount} receipts about itself but this node delivered {due.Count}";
        }
        else if (advert.ReceiptCount == (ulong)due.Count && due.Count > 0 && !Digest(due).AsSpan().SequenceEqual(advert.ReceiptDigest))
        {
            why = "advertised receipt digest does not match the receipts this node delivered";
        }
        if (why is not null)
        {
            Flag(advert.NodeId, "hides receipts: " + why);
        }
        return why;
    }
}
