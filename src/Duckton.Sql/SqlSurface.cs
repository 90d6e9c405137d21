using Duckton.Core.Configuration;
using Duckton.DuckDB.Functions;
using Duckton.Node;
using Duckton.Node.Trust;

namespace Duckton.Sql;

/// <summary>
/// Every <c>p2p_*</c> table function, written once. The CLI registers them on its embedded database, the
/// extension on the database DuckDB hands it; both through the same API table.
/// </summary>
public static class SqlSurface
{
    /// <summary>The functions, bound to a node that is created on first use.</summary>
    public static IReadOnlyList<TableFunctionDefinition> Functions(NodeHost host) =>
    [
        new InfoFunction(),
        new QueryFunction(host),
        new QueryMetaFunction(host),
        new ConfigFunction("p2p_config", host),
        new ConfigFunction("p2p_settings", host),
        new SetFunction(host),
        new ConfigResetFunction(host),
        new PlannerFunction(host),
        new SelectionFunction(host),
        new TrustFunction(host),
        new PricingFunction(host),
        new BiddingFunction(host),
        new BlockFunction(host),
        new UnblockFunction(host),
        new BlocklistFunction(host),
        new ReceiptsFunction(host),
        new VouchFunction(host),
        new VouchesFunction(host),
        new JoinFunction(host),
        new ShareFunction(host),
        new PauseFunction(host, enable: false),
        new PauseFunction(host, enable: true),
        new PeersFunction(host),
        new TrustTermsFunction(host),
        new NodeMetadataFunction(host),
        new StatusFunction(host),
        new EconomicsFunction(host),
        new WalletFunction(host),
        new ContractsFunction(host),
        new ChainParamsFunction(host, feesOnly: true),
        new ChainParamsFunction(host, feesOnly: false),
        new StakeFunction(host, unstake: false),
        new StakeFunction(host, unstake: true),
        new JobProofFunction(host),
        new VerifyProofFunction(),
        new EpochsFunction(host),
    ];

    /// <summary>Registers every function on <paramref name="connection"/> (a raw <c>duckdb_connection</c>).</summary>
    public static void Register(nint connection, NodeHost host)
    {
        foreach (var f in Functions(host))
        {
            TableFunctionRegistration.Register(connection, f);
        }
    }
}

/// <summary>
/// Owns the process's configuration store and <see cref="GridNode"/>; the node is created lazily on the first
/// call that needs it, so admin functions do not start an engine.
/// </summary>
public sealed class NodeHost : IDisposable
{
    private readonly Lazy<GridNode> _node;
    private readonly Lazy<TrustStore> _trust;
    private readonly Lazy<Duckton.Node.Economics.EconomicsHost> _economics;

    /// <param name="configDirectory">The resolved configuration directory.</param>
    /// <param name="environment">Environment accessor (tests inject one); the process environment by default.</param>
    public NodeHost(string configDirectory, Func<string, string?>? environment = null)
    {
        Config = new ConfigStore(configDirectory, environment);
        // Time and Logger are init-only: read them when first needed, after the initializer ran.
        _economics = new Lazy<Duckton.Node.Economics.EconomicsHost>(() => new Duckton.Node.Economics.EconomicsHost(Config, Time, Logger),
            LazyThreadSafetyMode.ExecutionAndPublication);
        _trust = new Lazy<TrustStore>(() => TrustStore.Open(configDirectory, Config.Effective().Config.Trust.StorePath, Time), LazyThreadSafetyMode.ExecutionAndPublication);
        _node = new Lazy<GridNode>(() => new GridNode(new GridNodeOptions
            {
                ConfigDirectory = configDirectory, Config = Config, TrustStore = () => _trust.Value, GridProgress = GridProgress, Time = Time, Logger = Logger,
                StakeSource = _ => ChainStakeSource(), EpochAnchor = ChainEpochAnchor,
                SettlePaidJob = (job, ct) => new Duckton.Node.Economics.EscrowSettlement(Economics.Runtime(), Logger).PayAsync(job, ct),
                EconomicsRuntime = () => Economics.Runtime(),
            }),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The node's clock (the .NET library passes its caller's; set before the first use).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where the node explains its decisions (the .NET library passes its caller's; set before the first use).</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>Sees the phases of remote queries (set before the first query; the shell shows them as a spinner).</summary>
    public Duckton.Node.Grid.IGridProgressObserver? GridProgress { get; init; }

    public ConfigStore Config { get; }

    /// <summary>The economics runtime's owner: builds nothing (no chain client, no connection) while economics is off.</summary>
    public Duckton.Node.Economics.EconomicsHost Economics => _economics.Value;

    public GridNode Node => _node.Value;

    /// <summary>The persistent receipts, penalties, vouches and deny-list, opened on first use.</summary>
    public TrustStore Trust => _trust.Value;

    private Duckton.Node.Economics.IStakeSource? _unavailableStake;

    /// <summary>Peers' stake from the economics runtime (asked only with economics on); a runtime that cannot be built makes stake unknown, with why.</summary>
    private Duckton.Node.Economics.IStakeSource ChainStakeSource()
    {
        try
        {
            var source = Economics.Runtime().StakeSource;
            _unavailableStake = null;
            return source;
        }
        catch (Duckton.Node.Economics.EconomicsException e)
        {
            // The same instance while the reason holds, so the stake cache is not reset on every use.
            return _unavailableStake is { } u && u.Description.EndsWith(e.Message, StringComparison.Ordinal) ? u
                : _unavailableStake = new Duckton.Node.Economics.UnavailableStakeSource(e.Message);
        }
    }

    /// <summary>The RecordAnchor the keeper anchors in (asked only with economics on and this node the keeper); null, and a warning, when there is none.</summary>
    private Duckton.Core.Records.IEpochAnchor? ChainEpochAnchor()
    {
        try
        {
            var anchor = Economics.Runtime().EpochAnchor();
            if (anchor is null)
            {
                Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(Logger,
                    "record keeper: no RecordAnchor or no wallet configured; epoch roots are only stored locally (SELECT * FROM p2p_contracts(deploy => true))");
            }
            return anchor;
        }
        catch (Duckton.Node.Economics.EconomicsException e)
        {
            // The keeper's loop must keep sealing; the reason is logged and the next round asks again.
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(Logger, "record keeper: cannot anchor: {Error}", e.Message);
            return null;
        }
    }

    public void Dispose()
    {
        if (_economics.IsValueCreated)
        {
            _economics.Value.Dispose();
        }
        if (_node.IsValueCreated)
        {
            _node.Value.Dispose();
        }
        if (_trust.IsValueCreated)
        {
            _trust.Value.Dispose();
        }
    }
}
