using Duckton.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Duckton.Library.Tests;

/// <summary>A real grid over loopback TLS: three hosting nodes and a requester, all through the public API.</summary>
public sealed class GridTests : IAsyncLifetime
{
    private readonly TempDirs _dirs = new();
    private readonly List<DucktonNode> _hosts = [];
    private readonly List<string> _addresses = [];

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            var host = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = _dirs.New("duckton-host-") });
            _hosts.Add(host);
            var shared = await host.ShareAsync(new ShareOptions { Threads = 1, MaxJobs = 4 });
            Assert.True(shared.Serving);
            _addresses.Add(shared.ListenAddress);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var h in _hosts)
        {
            await h.DisposeAsync();
        }
        _dirs.Dispose();
    }

    [Fact]
    public async Task A_grid_query_is_verified_by_a_quorum_and_its_certificate_checks_offline()
    {
        await using var requester = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = _dirs.New("duckton-req-") });
        var join = await requester.JoinAsync(_addresses);
        Assert.True(join.Joined, join.Status);

        var options = new QueryOptions { Replicas = 3, Quorum = 2, Placement = QueryPlacement.Remote };
        using var result = await requester.QueryAsync("SELECT sum(i) AS total, count(*) AS n FROM range(1000) t(i)", options);
        var v = result.Verification;
        Assert.False(v.ExecutedLocally);
        Assert.True(v.Verified);
        Assert.True(v.Agreement >= 2, $"agreement {v.Agreement}");
        Assert.StartsWith("dcc2:", v.Certificate, StringComparison.Ordinal);
        var row = Assert.Single(await result.ToListAsync());
        Assert.Equal((Int128)499500, row["total"]);
        Assert.Equal(1000L, row["n"]);

        // The third party's check: no node, just the certificate and the rows.
        var check = CertificateVerifier.Verify(v.Certificate!, result, quorum: 2);
        Assert.True(check.IsValid, check.Error);
        Assert.Equal(v.ResultHash, check.ResultHash);
        Assert.All(check.Hosts, h => Assert.Matches("^b3:[0-9a-f]{64}$", h));
        Assert.False(CertificateVerifier.Verify(v.Certificate!, result, quorum: check.Hosts.Count + 1).IsValid);

        // Other rows do not match the certificate.
        using var other = await requester.QueryAsync("SELECT sum(i) + 1 AS total, count(*) AS n FROM range(1000) t(i)", new QueryOptions { Placement = QueryPlacement.Local });
        var wrong = CertificateVerifier.Verify(v.Certificate!, other, quorum: 2);
        Assert.False(wrong.IsValid);
        Assert.Contains("different result hash", wrong.Error, StringComparison.Ordinal);

        // A tampered certificate fails its signatures (or decoding).
        var raw = Convert.FromBase64String(v.Certificate!["dcc2:".Length..]);
        raw[^10] ^= 0x5a;
        Assert.False(CertificateVerifier.Verify("dcc2:" + Convert.ToBase64String(raw), result, quorum: 2).IsValid);

        var peers = await requester.GetPeersAsync();
        Assert.Equal(3, peers.Count(p => p.Live));
        var receipts = await requester.GetReceiptsAsync();
        Assert.Contains(receipts, r => r.JobId == v.JobId && r.SignatureValid);
    }

    [Fact]
    public async Task Too_few_hosts_for_the_quorum_is_a_QuorumNotReachedException()
    {
        await using var requester = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = _dirs.New("duckton-req-") });
        await requester.JoinAsync(_addresses);
        var e = await Assert.ThrowsAsync<QuorumNotReachedException>(() =>
            requester.QueryAsync("SELECT 42 AS answer", new QueryOptions { Replicas = 5, Quorum = 5, Placement = QueryPlacement.Remote }));
        Assert.Contains("quorum 5", e.Message, StringComparison.Ordinal);
        Assert.False(e.Verification.ExecutedLocally);
    }

    [Fact]
    public async Task A_paused_host_serves_no_jobs_until_resumed()
    {
        await using var requester = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = _dirs.New("duckton-req-") });
        await _hosts[0].PauseAsync();
        try
        {
            await requester.JoinAsync(_addresses);
            // Three hosts are needed; one is paused.
            await Assert.ThrowsAsync<QuorumNotReachedException>(() =>
                requester.QueryAsync("SELECT 1 AS one", new QueryOptions { Replicas = 3, Quorum = 3, Placement = QueryPlacement.Remote }));
        }
        finally
        {
            await _hosts[0].ResumeAsync();
        }
    }

    [Fact]
    public async Task AddDuckton_makes_a_worker_service_a_grid_host()
    {
        var dir = _dirs.New("duckton-worker-");
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddDuckton(o =>
        {
            o.Node = new DucktonNodeOptions { ConfigDirectory = dir };
            o.Share = true;
            o.Bootstrap.Add(_addresses[0]);
        });
        using var app = builder.Build();
        await app.StartAsync();
        var node = app.Services.GetRequiredService<DucktonNode>();
        var workerId = await node.GetNodeIdAsync();

        // A requester that only knows the worker's seed finds it through gossip and can send it a job.
        await using var requester = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = _dirs.New("duckton-req-") });
        await requester.JoinAsync(_addresses);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!(await requester.GetPeersAsync()).Any(p => p.NodeId == workerId && p.Live) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }
        using var result = await requester.QueryAsync("SELECT 7 AS seven", new QueryOptions { Replicas = 1, Quorum = 1, Placement = QueryPlacement.Remote, Nodes = [workerId] });
        Assert.Equal(workerId, result.Verification.Winner);
        await app.StopAsync();
    }
}
