using System.Collections.Concurrent;
using Duckton.Ton.Addresses;
using Duckton.Ton.Contracts;
using Duckton.Ton.Rpc;
using Duckton.Ton.Wallets;
using Microsoft.Extensions.Logging;

namespace Duckton.Node.Economics;

/// <summary>What a host has staked, as its vault reports it.</summary>
/// <param name="StakedNanoton">Bonded stake (what counts for trust and selection).</param>
/// <param name="UnbondingNanoton">Stake cooling down after an unbond (still slashable, no longer counted).</param>
/// <param name="Vault">The vault it was read from (raw address), or null when no chain was asked.</param>
public sealed record StakeReading(ulong StakedNanoton, ulong UnbondingNanoton, string? Vault)
{
    public static StakeReading None { get; } = new(0, 0, null);

    public double StakedTon => StakedNanoton / 1e9;
}

/// <summary>Where a host's stake comes from (its StakeVault on the chain, with economics on).</summary>
public interface IStakeSource
{
    /// <summary>False for the source of economics off: every stake is 0 and nothing is ever asked.</summary>
    bool Live { get; }

    /// <summary>What it reads, in words (p2p_status, logs).</summary>
    string Description { get; }

    /// <summary>Reads the stake of <paramref name="nodeId"/> (whose Ed25519 key is <paramref name="publicKey"/>); throws when it cannot.</summary>
    Task<StakeReading> ReadAsync(string nodeId, ReadOnlyMemory<byte> publicKey, CancellationToken cancellationToken);
}

/// <summary>Economics off: every host has stake 0; no chain client is built and no connection opened.</summary>
internal sealed class NullStakeSource : IStakeSource
{
    public static NullStakeSource Instance { get; } = new();

    private NullStakeSource()
    {
    }

    public bool Live => false;

    public string Description => "none (economics off: stake counts 0)";

    public Task<StakeReading> ReadAsync(string nodeId, ReadOnlyMemory<byte> publicKey, CancellationToken cancellationToken) => Task.FromResult(StakeReading.None);
}

/// <summary>Economics on, but nothing supplies a chain source yet: every stake is unknown (counts 0, fails stake requirements closed).</summary>
internal sealed class UnavailableStakeSource(string reason) : IStakeSource
{
    public bool Live => true;

    public string Description => "unavailable: " + reason;

    public Task<StakeReading> ReadAsync(string nodeId, ReadOnlyMemory<byte> publicKey, CancellationToken cancellationToken) =>
        Task.FromException<StakeReading>(new InvalidOperationException("stake unknown: " + reason));
}

/// <summary>The StakeVault address of a host.</summary>
internal interface IVaultAddressResolver
{
    TonAddress VaultOf(string nodeId, ReadOnlySpan<byte> publicKey);
}

/// <summary>
/// Derives a host's vault from its identity: its owner is the wallet v5r1 of the host's Ed25519 key on
/// <paramref name="networkGlobalId"/>, and the vault is the StakeVault state init of (owner, <paramref name="config"/>) —
/// the address the vault is deployed at.
/// </summary>
internal sealed class DerivedVaultAddresses(VaultConfig config, int networkGlobalId) : IVaultAddressResolver
{
    public TonAddress VaultOf(string nodeId, ReadOnlySpan<byte> publicKey) =>
        StakeVault.StateInit(new WalletV5R1(publicKey, 0, networkGlobalId).Address, config).Address();
}

/// <summary>Reads <c>get_vault_state</c> of each host's vault through a toncenter-compatible API; a vault not deployed has stake 0.</summary>
internal sealed class ChainStakeSource(ToncenterClient client, IVaultAddressResolver resolver) : IStakeSource
{
    public bool Live => true;

    public string Description => "StakeVault get_vault_state via " + client.Options.Endpoint;

    public async Task<StakeReading> ReadAsync(string nodeId, ReadOnlyMemory<byte> publicKey, CancellationToken cancellationToken)
    {
        var vault = resolver.VaultOf(nodeId, publicKey.Span);
        var info = await client.GetAddressInformationAsync(vault, cancellationToken).ConfigureAwait(false);
        if (!info.IsActive)
        {
            return new StakeReading(0, 0, vault.ToRaw());
        }
        var (staked, cooling, _, _, _) = StakeVault.ParseState(await client.RunGetMethodAsync(vault, "get_vault_state", cancellationToken: cancellationToken).ConfigureAwait(false));
        return new StakeReading(Saturate(staked.Nanoton), Saturate(cooling.Nanoton), vault.ToRaw());
    }

    private static ulong Saturate(UInt128 v) => v > ulong.MaxValue ? ulong.MaxValue : (ulong)v;
}

/// <summary>One host's stake as this node knows it: null <see cref="StakeTon"/> = unknown (never read, or the read failed).</summary>
public readonly record struct StakeStatus(double? StakeTon, DateTimeOffset? ReadAt, string? Error)
{
    /// <summary>What counts: unknown stake counts as none.</summary>
    public double Counted => StakeTon ?? 0;
}

/// <summary>
/// The stake of every host this node assesses, cached: a reading is served until it is older than the refresh
/// interval (<c>economics.stake.refresh_secs</c>), then re-read in the background while the old value is still served.
/// The source is asked for again on every use, so switching economics on or off takes effect at once (and a new source
/// starts from an empty cache). With the null source nothing is cached and nothing is asked.
/// </summary>
public sealed class StakeBook
{
    private readonly Func<IStakeSource> _source;
    private readonly Func<TimeSpan> _refresh;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private IStakeSource? _current;

    private sealed class Entry
    {
        public StakeReading? Reading;
        public DateTimeOffset? ReadAt;
        public long ReadStamp;
        public string? Error;
        public Task? Pending;
    }

    public StakeBook(Func<IStakeSource> source, Func<TimeSpan> refresh, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(refresh);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _source = source;
        _refresh = refresh;
        _time = time;
        _logger = logger;
    }

    /// <summary>No stake source at all: economics off.</summary>
    public static StakeBook None { get; } = new(() => NullStakeSource.Instance, () => TimeSpan.MaxValue, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>Reads started (a test proves economics off never starts one).</summary>
    public long Reads => Interlocked.Read(ref _reads);

    private long _reads;

    /// <summary>The source in use now.</summary>
    public IStakeSource Source => Current();

    private IStakeSource Current()
    {
        var s = _source();
        if (!ReferenceEquals(Interlocked.Exchange(ref _current, s), s))
        {
            _entries.Clear(); // readings of another source (or another network) do not carry over
        }
        return s;
    }

    /// <summary>The cached stake of a host; starts a (background) read when it has none or it is due for a refresh.</summary>
    public StakeStatus Get(string nodeId, ReadOnlyMemory<byte> publicKey)
    {
        var source = Current();
        if (!source.Live)
        {
            return new StakeStatus(0, null, null);
        }
        var e = _entries.GetOrAdd(nodeId, _ => new Entry());
        Refresh(source, nodeId, publicKey, e);
        lock (e)
        {
            return new StakeStatus(e.Reading?.StakedTon, e.ReadAt, e.Error);
        }
    }

    /// <summary>The cached stake of a host without starting a read (for hosts not heard from in this process).</summary>
    public StakeStatus Peek(string nodeId)
    {
        if (!Current().Live)
        {
            return new StakeStatus(0, null, null);
        }
        if (!_entries.TryGetValue(nodeId, out var e))
        {
            return new StakeStatus(null, null, null);
        }
        lock (e)
        {
            return new StakeStatus(e.Reading?.StakedTon, e.ReadAt, e.Error);
        }
    }

    /// <summary>
    /// Starts reads for every host without a fresh reading and waits (at most <paramref name="bound"/>) for the hosts
    /// that have none at all, so a first selection sees real stake instead of unknown.
    /// </summary>
    public void Warm(IEnumerable<(string NodeId, ReadOnlyMemory<byte> PublicKey)> hosts, TimeSpan bound)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var source = Current();
        if (!source.Live)
        {
            return;
        }
        var waits = new List<Task>();
        foreach (var (id, key) in hosts)
        {
            var e = _entries.GetOrAdd(id, _ => new Entry());
            if (Refresh(source, id, key, e) is { } pending && e.Reading is null)
            {
                waits.Add(pending);
            }
        }
        if (waits.Count > 0)
        {
            Task.WaitAll([.. waits.Select(t => t.ContinueWith(static _ => { }, TaskScheduler.Default))], bound);
        }
    }

    private Task? Refresh(IStakeSource source, string nodeId, ReadOnlyMemory<byte> publicKey, Entry e)
    {
        lock (e)
        {
            if (e.Pending is { IsCompleted: false } pending)
            {
                return pending;
            }
            if (e.ReadAt is not null && _time.GetElapsedTime(e.ReadStamp) < _refresh())
            {
                return null;
            }
            Interlocked.Increment(ref _reads);
            var key = publicKey.ToArray();
            e.Pending = Task.Run(async () =>
            {
                try
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    var reading = await source.ReadAsync(nodeId, key, cts.Token).ConfigureAwait(false);
                    lock (e)
                    {
                        (e.Reading, e.ReadAt, e.ReadStamp, e.Error) = (reading, _time.GetUtcNow(), _time.GetTimestamp(), null);
                    }
                }
                catch (Exception ex)
                {
                    // The last reading (if any) is still served; with none the stake stays unknown (counts 0).
                    lock (e)
                    {
                        (e.ReadAt, e.ReadStamp, e.Error) = (_time.GetUtcNow(), _time.GetTimestamp(), ex.Message);
                    }
                    _logger.StakeReadFailed(nodeId, ex);
                }
            });
            return e.Pending;
        }
    }
}

/// <summary>
/// The economics runtime's stake source: a <see cref="ChainStakeSource"/> over <see cref="DerivedVaultAddresses"/> built
/// from the vault configuration GlobalParams holds (read from the chain once, then kept; a failed read is retried on the
/// next use). A host's vault is found only if it was deployed by the wallet of its node key (<c>p2p_wallet(node_key => true)</c>).
/// </summary>
// A SemaphoreSlim holds no OS handle unless AvailableWaitHandle is read (never here), and a source the runtime replaced
// may still be awaited by a reader, so the gate is left to the GC rather than disposed.
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "see above")]
internal sealed class RuntimeStakeSource(EconomicsRuntime runtime) : IStakeSource
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ChainStakeSource? _chain;

    public bool Live => true;

    public string Description => "StakeVault get_vault_state via " + runtime.Settings.Rpc.GetLeftPart(UriPartial.Authority) + " (vaults derived from node keys and GlobalParams)";

    public async Task<StakeReading> ReadAsync(string nodeId, ReadOnlyMemory<byte> publicKey, CancellationToken cancellationToken)
    {
        var chain = _chain;
        if (chain is null)
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_chain is null)
                {
                    var (_, gp) = await runtime.GlobalParamsAsync(cancellationToken).ConfigureAwait(false);
                    _chain = new ChainStakeSource(runtime.Client, new DerivedVaultAddresses(EconomicsRuntime.VaultConfigOf(gp), runtime.NetworkGlobalId));
                }
                chain = _chain;
            }
            finally
            {
                _gate.Release();
            }
        }
        return await chain.ReadAsync(nodeId, publicKey, cancellationToken).ConfigureAwait(false);
    }
}
