using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Node.Tests;

/// <summary>A grid part cannot be built half-wired: every collaborator is a constructor argument that must not be null.</summary>
public sealed class WiringTests : IDisposable
{
    private readonly TrustRig _rig = new();

    /// <summary>Builds with <paramref name="args"/> once (it works), then once per argument left null (each throws, naming it).</summary>
    private static void EachArgumentIsRequired(string[] names, object?[] args, Func<object?[], object> build, params int[] optional)
    {
        Assert.Equal(names.Length, args.Length);
        (build(args) as IDisposable)?.Dispose();
        for (var i = 0; i < args.Length; i++)
        {
            if (optional.Contains(i))
            {
                continue;
            }
            var missing = (object?[])args.Clone();
            missing[i] = null;
            var e = Assert.Throws<ArgumentNullException>(() => build(missing));
            Assert.Equal(names[i], e.ParamName);
        }
    }

    [Fact]
    public async Task A_coordinator_without_any_one_collaborator_is_not_built()
    {
        await using var pool = new ConnectionPool(_rig.Identity, new TransportOptions());
        var membership = new Membership(_rig.Identity.NodeId);
        EachArgumentIsRequired(
            ["identity", "pool", "membership", "engineVersion", "trust", "receipts", "time", "logger"],
            [_rig.Identity, pool, membership, "duckdb-test", _rig.Engine, _rig.Engine, TimeProvider.System, NullLogger.Instance],
            a => new Coordinator((NodeIdentity)a[0]!, (ConnectionPool)a[1]!, (Membership)a[2]!, (string)a[3]!, (ITrustGate)a[4]!, (IReceiptSink)a[5]!, (TimeProvider)a[6]!,
                (Microsoft.Extensions.Logging.ILogger)a[7]!));
    }

    [Fact]
    public void A_grid_runtime_without_any_one_collaborator_is_not_built()
    {
        Func<NodeConfig> config = () => NodeConfig.Defaults;
        EachArgumentIsRequired(
            ["identity", "config", "engineVersion", "trust", "receipts", "gossip", "faults", "jobs", "time", "logger"],
            [_rig.Identity, config, "duckdb-test", _rig.Engine, _rig.Engine, _rig.Engine, IJobFaults.None, IJobObserver.None, TimeProvider.System, NullLogger.Instance],
            a =>
            {
                var grid = new GridRuntime((NodeIdentity)a[0]!, (Func<NodeConfig>)a[1]!, (string)a[2]!, (ITrustGate)a[3]!, (IReceiptSink)a[4]!, (IGossipParticipant)a[5]!,
                    (IJobFaults)a[6]!, (IJobObserver)a[7]!, (TimeProvider)a[8]!, (Microsoft.Extensions.Logging.ILogger)a[9]!);
                grid.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return grid;
            });
    }

    [Fact]
    public void A_worker_without_any_one_collaborator_is_not_built()
    {
        var peers = new Nobody();
        var options = new WorkerOptions { MemoryBytes = 1L << 30, PerJobMemoryBytes = 256L << 20, Threads = 1, MaxJobs = 1 };
        EachArgumentIsRequired(
            ["identity", "options", "denyList", "receipts", "gossip", "adverts", "faults", "observer", "time", "logger"],
            [_rig.Identity, options, peers, peers, peers, peers, IJobFaults.None, IJobObserver.None, TimeProvider.System, NullLogger.Instance],
            a => new Worker((NodeIdentity)a[0]!, (WorkerOptions)a[1]!, (IDenyList)a[2]!, (IReceiptSink)a[3]!, (IGossipParticipant)a[4]!, (IAdvertExchange)a[5]!,
                (IJobFaults)a[6]!, (IJobObserver)a[7]!, (TimeProvider)a[8]!, (Microsoft.Extensions.Logging.ILogger)a[9]!));
    }

    [Fact]
    public void A_trust_engine_without_any_one_collaborator_is_not_built()
    {
        Func<TrustStore> store = () => _rig.RealStore;
        Func<NodeConfig> config = () => NodeConfig.Defaults;
        EachArgumentIsRequired(
            ["store", "identity", "config", "knownAnswers", "time", "logger"],
            [store, _rig.Identity, config, new Answers(), TimeProvider.System, NullLogger.Instance],
            a => new TrustEngine((Func<TrustStore>)a[0]!, (NodeIdentity)a[1]!, (Func<NodeConfig>)a[2]!, (IKnownAnswers)a[3]!, (TimeProvider)a[4]!,
                (Microsoft.Extensions.Logging.ILogger)a[5]!));
    }

    [Fact]
    public async Task Building_a_grid_runtime_leaves_the_process_thread_pool_alone()
    {
        ThreadPool.GetMinThreads(out var workersBefore, out var ioBefore);
        var grid = new GridRuntime(_rig.Identity, () => NodeConfig.Defaults, "duckdb-test", _rig.Engine, _rig.Engine, _rig.Engine, IJobFaults.None, IJobObserver.None,
            TimeProvider.System, NullLogger.Instance);
        await grid.DisposeAsync();
        ThreadPool.GetMinThreads(out var workersAfter, out var ioAfter);
        Assert.Equal((workersBefore, ioBefore), (workersAfter, ioAfter));
    }

    public void Dispose() => _rig.Dispose();

    private sealed class Answers : IKnownAnswers
    {
        public string ExpectedHash(string sql) => "";
    }

    private sealed class Nobody : IDenyList, IReceiptSink, IGossipParticipant, IAdvertExchange
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
}
