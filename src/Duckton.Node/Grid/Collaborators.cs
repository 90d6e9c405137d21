using Duckton.Core.Data;
using Duckton.Core.Protocol;

namespace Duckton.Node.Grid;

// The grid's parts receive their collaborators through their constructors (never settable hooks): a part cannot be
// built half-wired, so a security check cannot be switched off by forgetting to assign it.

/// <summary>The deny-list. Implementations fail closed: a list that cannot be read answers "blocked".</summary>
public interface IDenyList
{
    bool IsBlocked(string nodeId);
}

/// <summary>
/// The requester's trust decisions: ranking and shadow selection (<see cref="ICandidateRanker"/>), the deny-list and
/// the check of every bid's attestation. Implementations fail closed: an internal error refuses the host.
/// </summary>
public interface ITrustGate : ICandidateRanker, IDenyList
{
    /// <summary>Null to accept the bid, else why its attestation is not acceptable (or could not be checked).</summary>
    string? CheckBid(PeerEntry host, ulong nonce, BidMessage bid);

    /// <summary>Why <paramref name="nodeId"/> carries objective evidence of a wrong answer (its vote never counts), or null.</summary>
    string? Evidence(string nodeId);

    /// <summary>
    /// Whether a bid for <paramref name="jobId"/> can refuse its host (an attestation floor), so the Dispatch must wait for
    /// it. When it cannot, a free job's Dispatch follows its Offer at once. A gate that does not know says so (true).
    /// </summary>
    bool BidCanRefuse(string jobId) => true;
}

/// <summary>Receives the verdicts of every attempt and issues receipts from them; returns how many it stored.</summary>
public interface IReceiptSink
{
    int Issue(string jobId, string queryHash, IReadOnlyList<HostVerdict> verdicts);

    /// <summary>
    /// Notes that <paramref name="drifted"/> commits of an attempt at <paramref name="jobId"/> were left out of its quorum
    /// because their input fingerprint differed. A sink without a trust store keeps no such count.
    /// </summary>
    void RecordDrift(string jobId, int drifted)
    {
    }
}

/// <summary>The trust side of gossip: receipts and vouches received from and pushed to peers.</summary>
public interface IGossipParticipant
{
    void IngestReceipt(ReadOnlyMemory<byte> payload, string fromPeer);

    /// <summary>Receipts to push to <paramref name="peerNodeId"/> (null: a seed whose id is not known yet).</summary>
    IReadOnlyList<byte[]> ReceiptsToShare(string? peerNodeId);

    /// <summary>This host's receipt count and digest, for its own advert.</summary>
    (ulong Count, byte[] Digest) ReceiptSummary();

    void IngestVouch(ReadOnlyMemory<byte> payload, string fromPeer);

    IReadOnlyList<byte[]> VouchesToShare();
}

/// <summary>The membership side of a host connection: adverts received, and adverts to answer a Ping with.</summary>
public interface IAdvertExchange
{
    void IngestAdvert(AdvertMessage advert, string fromPeer);

    IReadOnlyList<AdvertMessage> AdvertsToShare();

    /// <summary>
    /// A SWIM indirect probe asked by <paramref name="fromPeer"/>: pings <paramref name="nodeId"/> if this node knows it at
    /// <paramref name="address"/> (never an address only the asker named); true when it answered in time.
    /// </summary>
    Task<bool> ProbeForAsync(string nodeId, string address, TimeSpan timeout, string fromPeer, CancellationToken cancellationToken);
}

/// <summary>Sees every dispatched job once the host is done with it (the host's job log). Must not throw.</summary>
public interface IJobObserver
{
    void Finished(JobReport report);

    /// <summary>Nobody watches.</summary>
    static IJobObserver None { get; } = new NoObserver();

    private sealed class NoObserver : IJobObserver
    {
        public void Finished(JobReport report)
        {
        }
    }
}

/// <summary>
/// How a host deviates from the protocol on purpose. Only a demo program supplies anything but <see cref="None"/>
/// (the CLI's <c>grid up --cheaters/--flaky</c>); this library contains no misbehaviour of its own.
/// </summary>
public interface IJobFaults
{
    /// <summary>The deviation for the next dispatched job (chosen once per job).</summary>
    IJobFault ForJob();

    /// <summary>The receipt count and digest this host advertises, given the true ones (honest: unchanged).</summary>
    (ulong Count, byte[] Digest) AdvertisedReceipts((ulong Count, byte[] Digest) held) => held;

    /// <summary>An honest host.</summary>
    static IJobFaults None { get; } = new Honest();

    private sealed class Honest : IJobFaults, IJobFault
    {
        public IJobFault ForJob() => this;
    }
}

/// <summary>One job's deviation; every member's default is the honest behaviour.</summary>
public interface IJobFault
{
    /// <summary>Runs after the query, before the commit; returns false to never commit (the job then ends cancelled).</summary>
    ValueTask<bool> BeforeCommitAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

    /// <summary>The rows to stream and the rows to commit the hash of (honest: both the computed result).</summary>
    (ResultSet Sent, ResultSet Committed) Answer(ResultSet result) => (result, result);

    /// <summary>Runs after each batch frame was sent.</summary>
    ValueTask AfterBatchAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>The price a paid job's signed commit claims, given the honest bill under the host's quote (honest: unchanged).</summary>
    ulong ClaimedPrice(ulong honest) => honest;

    /// <summary>How many bytes of rows to send with the commit, given what the dispatch allowed (0: none; honest: exactly that).</summary>
    long InlineLimit(long allowed) => allowed;
}
