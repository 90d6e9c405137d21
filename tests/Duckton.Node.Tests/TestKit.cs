using System.Collections.Concurrent;
using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.DuckDB.Native;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Transport;
using Microsoft.Extensions.Logging;

namespace Duckton.Node.Tests;

/// <summary>A logger that keeps every entry, so a test can see that a decision was explained.</summary>
internal sealed class RecordingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, EventId Id, string Message, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId, formatter(state, exception), exception));
}

/// <summary>A trust engine over a real trust store in a temporary directory whose store or configuration can be made to fail.</summary>
internal sealed class TrustRig : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-node-tests-").FullName;
    private readonly TrustStore _store;

    public TrustRig()
    {
        DuckDBNative.InitializeFromLibrary();
        _store = TrustStore.Open(_dir, null, TimeProvider.System);
        Identity = NodeIdentity.Create();
        Engine = new TrustEngine(Store, Identity, Config, new FixedAnswers(), TimeProvider.System, Logger);
    }

    public NodeIdentity Identity { get; }
    public RecordingLogger Logger { get; } = new();
    public TrustEngine Engine { get; }
    public TrustStore RealStore => _store;

    /// <summary>The failure the store (or the configuration) throws from now on; null: they work.</summary>
    public Exception? StoreFailure { get; set; }
    public Exception? ConfigFailure { get; set; }

    public TrustStore Store() => StoreFailure is { } e ? throw e : _store;

    public NodeConfig Config() => ConfigFailure is { } e ? throw e : NodeConfig.Defaults;

    public void Dispose()
    {
        _store.Dispose();
        Identity.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class FixedAnswers : IKnownAnswers
    {
        public string ExpectedHash(string sql) => throw new InvalidOperationException("no canaries in these tests");
    }

    /// <summary>A peer as membership would hold it: a signed-shape advert for a fresh key.</summary>
    public static PeerEntry Peer(byte attestation = 0)
    {
        using var key = NodeIdentity.Create();
        var advert = new AdvertMessage(key.PublicKey.ToArray(), "127.0.0.1:1", 1 << 30, 2, 2, attestation, true, ["default"], [], "", 0, 0,
            (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1);
        return new PeerEntry(advert, DateTimeOffset.UtcNow);
    }
}
