using System.Collections.Concurrent;
using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.DuckDB.Native;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Duckton.Node.Tests;

/// <summary>A logger that keeps every entry, so a test can see that a decision was explained.</summary>
internal sealed class RecordingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, EventId Id, string Message, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId, formatter(state, exception), exception));
}

/// <summary>A trust gate that admits and ranks every host as given, issues every receipt and has no gossip to share.</summary>
internal sealed class OpenTrustGate : ITrustGate, IReceiptSink, IGossipParticipant
{
    public string? CheckBid(PeerEntry host, ulong nonce, BidMessage bid) => null;
    public bool IsBlocked(string nodeId) => false;
    public string? Evidence(string nodeId) => null;
    public IReadOnlyList<PeerEntry> Rank(IReadOnlyList<PeerEntry> candidates, CandidateContext context) => candidates;
    public int Issue(string jobId, string queryHash, IReadOnlyList<HostVerdict> verdicts) => verdicts.Count;
    public void IngestReceipt(ReadOnlyMemory<byte> payload, string fromPeer) { }
    public IReadOnlyList<byte[]> ReceiptsToShare(string? peerNodeId) => [];
    public (ulong Count, byte[] Digest) ReceiptSummary() => (0, new byte[32]);
    public void IngestVouch(ReadOnlyMemory<byte> payload, string fromPeer) { }
    public IReadOnlyList<byte[]> VouchesToShare() => [];
}

/// <summary>A trust engine over a real trust store in a temporary directory whose store or configuration can be made to fail.</summary>
internal sealed class TrustRig : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-node-tests-").FullName;
    private readonly TrustStore _store;

    public TrustRig()
    {
        DuckDBNative.InitializeFromLibrary();
        _store = TrustStore.Open(_dir, null, Time);
        Identity = NodeIdentity.Create();
        Engine = new TrustEngine(Store, Identity, Config, new FixedAnswers(), Time, Logger);
    }

    /// <summary>The clock of the store and the engine; tests move it by hand.</summary>
    public FakeTimeProvider Time { get; } = TestClock.Create();

    public NodeIdentity Identity { get; }
    public RecordingLogger Logger { get; } = new();
    public TrustEngine Engine { get; }
    public TrustStore RealStore => _store;

    /// <summary>The failure the store (or the configuration) throws from now on; null: they work.</summary>
    public Exception? StoreFailure { get; set; }
    public Exception? ConfigFailure { get; set; }

    public TrustStore Store() => StoreFailure is { } e ? throw e : _store;

    public NodeConfig Config() => ConfigFailure is { } e ? throw e : NodeConfig.Defaults;

    public void Dispose()
    {
        _store.Dispose();
        Identity.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class FixedAnswers : IKnownAnswers
    {
        public string ExpectedHash(string sql) => throw new InvalidOperationException("no canaries in these tests");
    }

    /// <summary>A peer as membership would hold it (<see cref="Peers.Create"/>), first seen now on this rig's clock.</summary>
    public PeerEntry Peer(byte attestation = 0, string address = "127.0.0.1:1") => Peers.Create(attestation, address, Time.GetUtcNow());

    /// <summary>Signs and stores one receipt per verdict, as the coordinator does after a job (its own job id and query).</summary>
    public int Issue(params HostVerdict[] verdicts) =>
        Engine.Issue(JobIds.NewJobId(), Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), verdicts);

    /// <summary>
    /// Issues correct receipts for <paramref name="peer"/> (one job each, a minute apart) until it is trusted under
    /// <paramref name="config"/>; returns how many it took. Fails the test if it is still not trusted after <paramref name="limit"/>.
    /// </summary>
    public int EarnTrust(PeerEntry peer, NodeConfig config, int limit = 200)
    {
        for (var n = 1; n <= limit; n++)
        {
            Issue(Verdicts.Correct(peer));
            Time.Advance(TimeSpan.FromMinutes(1));
            if (Engine.Assess(peer, config, QueryOverrides.None).Standing == Standing.Trusted)
            {
                return n;
            }
        }
        throw new Xunit.Sdk.XunitException($"{peer.NodeId} was still not trusted after {limit} correct receipts");
    }
}

/// <summary>The one hand-moved clock of these tests: a FakeTimeProvider that starts at a fixed instant.</summary>
internal static class TestClock
{
    public static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    public static FakeTimeProvider Create() => new(Start);
}

/// <summary>Builds peers as membership holds them: a signed-shape advert for a fresh key.</summary>
internal static class Peers
{
    public static PeerEntry Create(byte attestation = 0, string address = "127.0.0.1:1", DateTimeOffset? seen = null)
    {
        using var key = NodeIdentity.Create();
        var at = seen ?? DateTimeOffset.UtcNow;
        var advert = new AdvertMessage(key.PublicKey.ToArray(), address, 1 << 30, 2, 2, attestation, true, ["default"], [], "", 0, 0,
            (ulong)at.ToUnixTimeMilliseconds(), 1);
        return new PeerEntry(advert, at);
    }
}

/// <summary>Builds the requester's verdicts that receipts are issued from.</summary>
internal static class Verdicts
{
    public const string AgreedHash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    public const string OtherHash = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    public static HostVerdict Correct(PeerEntry peer, double latencyMs = 20) =>
        new(peer.NodeId, Verdict.Correct, AgreedHash, 1, latencyMs, 100, null);

    public static HostVerdict Incorrect(PeerEntry peer) =>
        new(peer.NodeId, Verdict.Incorrect, OtherHash, 1, 20, 100, "a different result (test)");

    /// <summary>A shadow replica's answer, checked against the quorum's: right or wrong.</summary>
    public static HostVerdict Shadow(PeerEntry peer, bool correct) => (correct ? Correct(peer) : Incorrect(peer)) with { Shadow = true };
}

/// <summary>Builds commits as hosts sign them (unsigned here: the quorum rule counts, the coordinator checks signatures).</summary>
internal static class Commits
{
    public static readonly byte[] Schema = [1, 2, 3];

    public static CommitMessage For(string resultHash, ulong rows = 1, byte[]? fingerprint = null, byte[]? schema = null)
    {
        using var key = NodeIdentity.Create();
        return new CommitMessage("00000000000000000000000000000001", Verdicts.AgreedHash, "requester", key.PublicKey.ToArray(), fingerprint ?? [],
            resultHash, rows, schema ?? Schema, 1000);
    }
}
