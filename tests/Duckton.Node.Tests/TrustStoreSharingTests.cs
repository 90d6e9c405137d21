using System.Diagnostics;
using Duckton.DuckDB.Native;
using Duckton.Node.Trust;

namespace Duckton.Node.Tests;

/// <summary>
/// A busy process keeps the trust store attached between its sessions (no checkpoint per session), yet another process
/// on the same config directory still gets the lock within milliseconds, and the file is closed again once the holder
/// has been idle for <see cref="TrustStore.KeepAttached"/>. Two stores in one test process stand for two processes: the
/// OS lock is per open file, so they exclude each other exactly as two processes do.
/// </summary>
public sealed class TrustStoreSharingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-trust-sharing-").FullName;

    public TrustStoreSharingTests() => DuckDBNative.InitializeFromLibrary();

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>True when no store holds the store's OS lock now (so none has the file attached: it is detached before the lock is let go).</summary>
    private bool FileIsClosed()
    {
        try
        {
            // .NET takes flock(LOCK_EX | LOCK_NB) for FileShare.None: it fails while a store holds the lock.
            using var probe = new FileStream(Path.Combine(_dir, "trust", "trust.lock"), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public void A_store_keeps_the_file_attached_while_busy_and_closes_it_after_being_idle()
    {
        using var store = TrustStore.Open(_dir);
        store.SetFlag("node-a", "test");
        Assert.False(FileIsClosed()); // still attached right after the session: the next one pays no attach or checkpoint
        var idle = Stopwatch.StartNew();
        while (!FileIsClosed())
        {
            Assert.True(idle.Elapsed < TrustStore.KeepAttached + TimeSpan.FromSeconds(20), "the idle store never closed the file");
            Thread.Sleep(100);
        }
        Assert.True(idle.Elapsed >= TrustStore.KeepAttached - TimeSpan.FromMilliseconds(200), $"closed after {idle.Elapsed.TotalMilliseconds:0} ms");
        // What it committed while attached is in the file.
        Assert.Equal("test", store.Flags()["node-a"]);
    }

    [Fact]
    public void Another_process_waiting_for_the_lock_gets_it_at_once_and_sees_the_holders_writes()
    {
        using var holder = TrustStore.Open(_dir);
        using var other = TrustStore.Open(_dir);
        for (var round = 0; round < 20; round++)
        {
            // The holder writes (and keeps the file), then the other process writes and reads: each waits for the
            // other's lock, which must come within milliseconds, not after KeepAttached or the 60 s lock timeout.
            holder.SetFlag($"from-holder-{round}", "h");
            var waited = Stopwatch.StartNew();
            other.SetFlag($"from-other-{round}", "o");
            Assert.Equal("h", other.Flags()[$"from-holder-{round}"]);
            Assert.True(waited.Elapsed < TrustStore.KeepAttached, $"round {round}: waited {waited.Elapsed.TotalMilliseconds:0} ms for the holder");
            Assert.Equal("o", holder.Flags()[$"from-other-{round}"]);
        }
    }
}
