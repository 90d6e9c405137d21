namespace Duckton.Grid.Tests;

/// <summary>
/// Failure detection with real host processes: a host killed with SIGKILL is convicted (phi-accrual, then direct and
/// SWIM indirect probes fail) and shown as dead by <c>p2p_peers()</c> within seconds; the survivors stay live; with
/// <c>liveness.phi.enabled = false</c> nothing is ever convicted.
/// </summary>
public sealed class LivenessTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-liveness-").FullName;

    private static readonly (string, string)[] s_fast =
    [
        ("discovery.gossip.heartbeat_ms", "300"),
        ("liveness.phi.first_interval_ms", "500"),
        ("liveness.swim.probe_timeout_ms", "1000"),
        ("liveness.swim.indirect_probe_timeout_ms", "1500"),
    ];

    private (HostProcess A, HostProcess B, HostProcess C, Requester R) Grid(string name, params (string, string)[] settings)
    {
        var env = new Dictionary<string, string> { ["P2P_DISCOVERY_GOSSIP_HEARTBEAT_MS"] = "300" };
        var a = HostProcess.Start(_root, name + "-a", env);
        var b = HostProcess.Start(_root, name + "-b", env, "--seed", a.Address);
        var c = HostProcess.Start(_root, name + "-c", env, "--seed", a.Address);
        var r = new Requester(_root, name + "-requester", [.. s_fast, .. settings]);
        r.JoinAndLearn(a.Address, 3);
        return (a, b, c, r);
    }

    private static Dictionary<string, string> States(Requester r, params HostProcess[] hosts) =>
        hosts.ToDictionary(h => h.NodeId, h => r.Rows($"SELECT state FROM p2p_peers() WHERE node_id = '{h.NodeId}'").Single()[0]!);

    [Fact]
    public void A_killed_host_is_shown_dead_within_seconds_and_the_others_stay_live()
    {
        var (a, b, c, r) = Grid("on");
        using (a)
        using (b)
        using (c)
        using (r)
        {
            c.Kill();
            var killed = System.Diagnostics.Stopwatch.StartNew();
            string? state = null;
            while (killed.Elapsed < TimeSpan.FromSeconds(20) && (state = States(r, c)[c.NodeId]) != "dead")
            {
                Thread.Sleep(200);
            }
            Assert.Equal("dead", state);
            Assert.True(killed.Elapsed < TimeSpan.FromSeconds(15), $"convicted after {killed.Elapsed.TotalSeconds:0.0} s");
            var survivors = States(r, a, b);
            Assert.All(survivors.Values, s => Assert.Equal("live", s));
            // A dead host is never selected: a query that needs two hosts runs on the two live ones.
            var meta = r.Meta("'SELECT 42 AS answer'", ", prefer => 'remote', replicas => 3, quorum => 2");
            Assert.False(meta.ContainsKey("error"), meta.GetValueOrDefault("error"));
            Assert.DoesNotContain(c.NodeId, Duckton.Core.Protocol.CommitCertificate.Verify(meta["certificate"]!).HostSet);
        }
    }

    [Fact]
    public void With_the_detector_off_a_killed_host_is_never_convicted()
    {
        var (a, b, c, r) = Grid("off", ("liveness.phi.enabled", "false"));
        using (a)
        using (b)
        using (c)
        using (r)
        {
            c.Kill();
            Thread.Sleep(TimeSpan.FromSeconds(6));
            Assert.NotEqual("dead", States(r, c)[c.NodeId]);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
