namespace Duckton.Grid.Tests;

/// <summary>
/// Eleven real host processes on loopback, every one seeded with H1: honest H1–H3, honest but 1 s slower to commit H4–H5,
/// and one each of the SIMULATED misbehaviours (cheater, equivocator, stalls before commit, stalls mid-stream,
/// SIGKILLs itself mid-stream, sends rows with its commit beyond what the dispatch allowed). Tests pick hosts with <c>nodes => [...]</c>.
/// </summary>
public sealed class GridFixture : IDisposable
{
    public GridFixture()
    {
        Root = Directory.CreateTempSubdirectory("duckton-grid-tests-").FullName;
        H1 = HostProcess.Start(Root, "h1");
        var seed = new[] { "--seed", H1.Address };
        var slow = seed.Concat(["--simulate-commit-delay-ms", "1000"]).ToArray();
        var starts = new[]
        {
            HostProcess.StartAsync(Root, "h2", seed),
            HostProcess.StartAsync(Root, "h3", seed),
            HostProcess.StartAsync(Root, "h4", slow),
            HostProcess.StartAsync(Root, "h5", slow),
            HostProcess.StartAsync(Root, "cheater", [.. seed, "--simulate", "cheat"]),
            HostProcess.StartAsync(Root, "equivocator", [.. seed, "--simulate", "equivocate"]),
            HostProcess.StartAsync(Root, "staller", [.. seed, "--simulate", "stall-commit"]),
            HostProcess.StartAsync(Root, "stream-staller", [.. seed, "--simulate", "stall-stream"]),
            HostProcess.StartAsync(Root, "dier", [.. seed, "--simulate", "die-stream"]),
            HostProcess.StartAsync(Root, "over-sender", [.. seed, "--simulate", "over-inline"]),
        };
        Task.WaitAll(starts);
        (H2, H3, H4, H5, Cheater, Equivocator, Staller, StreamStaller, Dier, OverSender) =
            (starts[0].Result, starts[1].Result, starts[2].Result, starts[3].Result, starts[4].Result, starts[5].Result, starts[6].Result, starts[7].Result, starts[8].Result, starts[9].Result);
        Requester = new Requester(Root, "requester", ("scheduler.progress_interval_ms", "200"), ("scheduler.offer_timeout_ms", "10000"));
        Requester.Rows($"SELECT * FROM p2p_join(bootstrap => ['{H1.Address}'])");
        // Warm every host that answers (JIT, first engine instance, pooled connections) so timings measure behaviour.
        foreach (var h in new[] { H1, H2, H3, H4, H5, Cheater, Equivocator, StreamStaller, Dier, OverSender })
        {
            try
            {
                // No rows, so no batch frame: the mid-stream misbehaviours do not trigger.
                Requester.Host.Node.Query("SELECT 1 AS warm WHERE false", new Duckton.Node.QueryOverrides { Prefer = Duckton.Core.Configuration.PlannerPreference.Remote, Replicas = 1, Quorum = 1, Nodes = [h.NodeId] });
            }
            catch (Duckton.Node.QueryFailedException)
            {
                // the equivocator's rows never verify; it is warm anyway
            }
        }
    }

    public string Root { get; }
    public HostProcess H1 { get; }
    public HostProcess H2 { get; }
    public HostProcess H3 { get; }
    public HostProcess H4 { get; }
    public HostProcess H5 { get; }
    public HostProcess Cheater { get; }
    public HostProcess Equivocator { get; }
    public HostProcess Staller { get; }
    public HostProcess StreamStaller { get; }
    public HostProcess Dier { get; }
    public HostProcess OverSender { get; }
    public Requester Requester { get; }

    public IEnumerable<HostProcess> All => [H1, H2, H3, H4, H5, Cheater, Equivocator, Staller, StreamStaller, Dier, OverSender];

    public static string Nodes(params HostProcess[] hosts) => "[" + string.Join(", ", hosts.Select(h => $"'{h.NodeId}'")) + "]";

    public void Dispose()
    {
        FixtureTeardown.Run(Requester, All, Root);
    }
}

[CollectionDefinition(Name)]
public sealed class GridCollection : ICollectionFixture<GridFixture>
{
    public const string Name = "grid";
}

/// <summary>Stops a test grid: the requester, every host process, then the scratch directory.</summary>
internal static class FixtureTeardown
{
    public static void Run(Requester requester, IEnumerable<HostProcess> hosts, string root)
    {
        requester.Dispose();
        foreach (var h in hosts)
        {
            h.Dispose();
        }
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
