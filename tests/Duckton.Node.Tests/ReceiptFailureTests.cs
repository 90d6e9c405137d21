using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.DuckDB.Native;
using Duckton.Node.Grid;
using Duckton.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Node.Tests;

/// <summary>
/// A failing receipt sink does not fail a verified query, and its failure is logged rather than swallowed: a real host
/// runtime on loopback answers a real requester runtime whose sink throws.
/// </summary>
public sealed class ReceiptFailureTests
{
    [Fact]
    public async Task A_receipt_sink_that_throws_is_logged_and_the_verified_answer_still_returns()
    {
        DuckDBNative.InitializeFromLibrary();
        var defaults = NodeConfig.Defaults;
        var config = defaults with { Scheduler = defaults.Scheduler with { Quorum = 1, Replicas = 1 } };
        var everyone = new OpenTrustGate();
        using var hostId = NodeIdentity.Create();
        using var requesterId = NodeIdentity.Create();
        var logger = new RecordingLogger();
        var sink = new ThrowingSink();
        await using var host = new GridRuntime(hostId, () => config, GridNode.EngineVersion, everyone, everyone, everyone, IJobFaults.None, IJobObserver.None,
            TimeProvider.System, NullLogger.Instance);
        var address = await host.ShareAsync(new WorkerOptions { MemoryBytes = 1L << 30, PerJobMemoryBytes = 256L << 20, Threads = 1, MaxJobs = 1 }, "127.0.0.1:0", true);
        await using var requester = new GridRuntime(requesterId, () => config, GridNode.EngineVersion, everyone, sink, everyone, IJobFaults.None, IJobObserver.None,
            TimeProvider.System, logger);
        await requester.JoinAsync([address]);
        Assert.Contains(requester.Membership.Live(), p => p.NodeId == hostId.NodeId);

        var jobId = JobIds.NewJobId();
        var outcome = await requester.Coordinator.RunAsync("SELECT 42 AS answer", jobId, config, QueryOverrides.None, CancellationToken.None);

        Assert.True(outcome.Verified);
        Assert.Equal(hostId.NodeId, outcome.Winner);
        Assert.Equal(0, outcome.Receipts);
        Assert.True(sink.Calls > 0); // the verdicts reached the sink
        var entry = Assert.Single(logger.Entries, e => e.Id.Id == 1303);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Contains(jobId, entry.Message, StringComparison.Ordinal);
        Assert.Same(ThrowingSink.Failure, entry.Exception);
    }

    private sealed class ThrowingSink : IReceiptSink
    {
        public static readonly Exception Failure = new IOException("receipt store full (injected)");
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public int Issue(string jobId, string queryHash, IReadOnlyList<HostVerdict> verdicts)
        {
            Interlocked.Increment(ref _calls);
            throw Failure;
        }
    }
}
