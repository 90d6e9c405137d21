using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Duckton.Hosting;

/// <summary>How <see cref="DucktonServiceCollectionExtensions.AddDuckton"/> sets up the node. Mutable for the configure callback.</summary>
public sealed class DucktonHostingOptions
{
    /// <summary>The node's options. Its logger factory and clock default to the container's.</summary>
    public DucktonNodeOptions Node { get; set; } = new();

    /// <summary>Seeds to join when the application starts (<c>host:port</c>); none: no join.</summary>
    public IList<string> Bootstrap { get; } = [];

    /// <summary>True: the node starts hosting (serving grid jobs) when the application starts.</summary>
    public bool Share { get; set; }

    /// <summary>What the node donates when <see cref="Share"/> is true; null: the configured budget.</summary>
    public ShareOptions? ShareOptions { get; set; }
}

/// <summary>Registers a <see cref="DucktonNode"/> in a <c>Microsoft.Extensions.Hosting</c> application.</summary>
public static class DucktonServiceCollectionExtensions
{
    /// <summary>
    /// Adds one <see cref="DucktonNode"/> (a singleton, disposed with the container) and a hosted service that joins the
    /// configured seeds and, with <see cref="DucktonHostingOptions.Share"/>, starts hosting when the application starts,
    /// so a worker service can be a grid host.
    /// </summary>
    public static IServiceCollection AddDuckton(this IServiceCollection services, Action<DucktonHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new DucktonHostingOptions();
        configure?.Invoke(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton(sp =>
        {
            var node = options.Node;
            node = node with
            {
                LoggerFactory = node.LoggerFactory ?? sp.GetService<ILoggerFactory>(),
                TimeProvider = node.TimeProvider ?? sp.GetService<TimeProvider>(),
            };
            return new DucktonNode(node);
        });
        services.AddHostedService<DucktonHostedService>();
        return services;
    }
}

/// <summary>Joins and shares on start, as <see cref="DucktonHostingOptions"/> says; the container disposes the node on stop.</summary>
internal sealed partial class DucktonHostedService(DucktonNode node, DucktonHostingOptions options, ILogger<DucktonHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Bootstrap.Count > 0)
        {
            var joined = await node.JoinAsync(options.Bootstrap, cancellationToken).ConfigureAwait(false);
            LogJoined(logger, joined.NodeId, joined.LivePeers, joined.Status);
        }
        if (options.Share)
        {
            var shared = await node.ShareAsync(options.ShareOptions, cancellationToken).ConfigureAwait(false);
            LogHosting(logger, shared.NodeId, shared.ListenAddress, shared.Serving);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "duckton node {NodeId} joined the grid: {LivePeers} live peer(s) ({Status})")]
    private static partial void LogJoined(ILogger logger, string nodeId, int livePeers, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "duckton node {NodeId} hosting at {ListenAddress} (serving: {Serving})")]
    private static partial void LogHosting(ILogger logger, string nodeId, string listenAddress, bool serving);
}
