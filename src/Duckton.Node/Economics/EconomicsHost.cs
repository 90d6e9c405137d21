using Duckton.Core.Configuration;
using Microsoft.Extensions.Logging;

namespace Duckton.Node.Economics;

/// <summary>
/// Owns the node's <see cref="EconomicsRuntime"/>. With <c>economics.enabled = false</c> (the default) it never builds
/// one, so no chain client exists and no connection is opened, whatever endpoint is configured. When enabled, the
/// runtime is built on first use and rebuilt when the network, endpoint, key or timeout change.
/// </summary>
public sealed class EconomicsHost : IDisposable
{
    /// <summary>The hint every economics error gives when economics is off.</summary>
    public const string OffHint = "economics is off: SELECT * FROM p2p_economics(enabled => true)";

    private readonly ConfigStore _config;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private EconomicsRuntime? _runtime;

    public EconomicsHost(ConfigStore config, TimeProvider? time = null, ILogger? logger = null)
    {
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _time = time ?? TimeProvider.System;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    }

    /// <summary>How many runtimes this host has built (0 while economics stays off).</summary>
    public int RuntimesBuilt { get; private set; }

    /// <summary>The runtime for the current configuration; <see cref="EconomicsException"/> with <see cref="OffHint"/> when economics is off.</summary>
    public EconomicsRuntime Runtime()
    {
        var c = _config.Effective().Config;
        if (!c.Economics.Enabled)
        {
            throw new EconomicsException(OffHint);
        }
        var settings = EconomicsSettings.From(c);
        lock (_gate)
        {
            if (_runtime is { } r && r.Settings.Network == settings.Network && r.Settings.Rpc == settings.Rpc && r.Settings.ApiKey == settings.ApiKey
                && r.Settings.RpcTimeout == settings.RpcTimeout)
            {
                r.Settings = settings; // wallet and contract addresses may have changed; the client stays
                return r;
            }
            _runtime?.Dispose();
            _runtime = new EconomicsRuntime(settings, _config.ConfigDirectory, Persist, _time, _logger);
            RuntimesBuilt++;
            return _runtime;
        }
    }

    /// <summary>The runtime if one was built, without building one.</summary>
    public EconomicsRuntime? Current
    {
        get
        {
            lock (_gate)
            {
                return _runtime;
            }
        }
    }

    private void Persist(IReadOnlyList<KeyValuePair<string, string>> changes)
    {
        var effective = _config.Set(changes);
        lock (_gate)
        {
            if (_runtime is { } r)
            {
                r.Settings = EconomicsSettings.From(effective.Config);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _runtime?.Dispose();
            _runtime = null;
        }
    }
}
