// A worker service that hosts: it donates one thread to the grid and serves verified jobs until stopped.
//   dotnet run                          -> hosts on 127.0.0.1 (a free port), prints "hosting at ..."
//   dotnet run -- --seed 127.0.0.1:9494 -> also joins an existing grid
// Settings come from the usual configuration (appsettings.json, environment, command line): Duckton:ConfigDirectory,
// Duckton:Seed, Duckton:Threads.
using Duckton;
using Duckton.Hosting;

var builder = Host.CreateApplicationBuilder(args);
var section = builder.Configuration.GetSection("Duckton");
builder.Services.AddDuckton(o =>
{
    o.Node = new DucktonNodeOptions
    {
        ConfigDirectory = section["ConfigDirectory"] ?? Path.Combine(Path.GetTempPath(), "duckton-sample-worker"),
    };
    o.Share = true;
    o.ShareOptions = new ShareOptions { Threads = int.TryParse(section["Threads"], out var t) ? t : 1 };
    if ((section["Seed"] ?? builder.Configuration["seed"]) is { Length: > 0 } seed)
    {
        o.Bootstrap.Add(seed);
    }
});
builder.Services.AddHostedService<StatusReporter>();
await builder.Build().RunAsync();

/// <summary>Says where the node hosts once it does, then how many peers it sees every 30 s.</summary>
internal sealed partial class StatusReporter(DucktonNode node, ILogger<StatusReporter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Console.WriteLine($"hosting node_id={await node.GetNodeIdAsync(stoppingToken)}");
        while (!stoppingToken.IsCancellationRequested)
        {
            var peers = await node.GetPeersAsync(stoppingToken);
            LogPeers(logger, peers.Count(p => p.Live));
            await Task.Delay(TimeSpan.FromSeconds(30), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Live} live peer(s)")]
    private static partial void LogPeers(ILogger logger, int live);
}
