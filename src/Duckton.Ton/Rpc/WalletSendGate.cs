using System.Collections.Concurrent;
using Duckton.Ton.Addresses;

namespace Duckton.Ton.Rpc;

/// <summary>
/// One sender at a time per wallet. A wallet v5r1 request carries the seqno it consumes, read from the chain just before
/// signing; two senders that read the same seqno sign two requests for it and the wallet refuses the second (exit code
/// 133). So every request of a wallet is read, signed, sent and confirmed inside one turn: process-wide by wallet address
/// (every <see cref="TonWallet"/> object of that address shares the turn), and, when a lock directory is given, also
/// across processes through an owner-only OS file lock there (released by the kernel if the holder dies).
/// </summary>
public static class WalletSendGate
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> s_turns = new(StringComparer.Ordinal);

    /// <summary>The lock file of <paramref name="wallet"/> in <paramref name="directory"/>.</summary>
    public static string LockFile(string directory, TonAddress wallet)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(wallet);
        return Path.Combine(directory, $".wallet-{wallet.Workchain}_{Convert.ToHexStringLower(wallet.Hash)}.lock");
    }

    /// <summary>
    /// Waits for <paramref name="wallet"/>'s turn (first in this process, then the file lock when
    /// <paramref name="lockDirectory"/> is given); dispose the result to end it. Throws <see cref="TimeoutException"/>
    /// when another process holds the file lock for longer than <paramref name="lockTimeout"/>.
    /// </summary>
    public static async Task<IDisposable> EnterAsync(TonAddress wallet, string? lockDirectory, TimeSpan lockTimeout, TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        time ??= TimeProvider.System;
        var turn = s_turns.GetOrAdd(wallet.ToRaw(), _ => new SemaphoreSlim(1, 1)); // never disposed: one small object per wallet used
        await turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var file = lockDirectory is null ? null : await LockAsync(LockFile(lockDirectory, wallet), lockTimeout, time, cancellationToken).ConfigureAwait(false);
            return new Turn(turn, file);
        }
        catch
        {
            turn.Release();
            throw;
        }
    }

    private static async Task<FileStream> LockAsync(string path, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        var started = time.GetTimestamp();
        while (true)
        {
            try
            {
                // .NET takes flock(LOCK_EX | LOCK_NB) for FileShare.None on Unix and fails with IOException while another holds it.
                return new FileStream(path, options);
            }
            catch (IOException) when (File.Exists(path) && time.GetElapsedTime(started) < timeout)
            {
                // The holder is sending and confirming one request (seconds); poll rather than block a thread.
                await Task.Delay(TimeSpan.FromMilliseconds(25), time, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e) when (File.Exists(path))
            {
                throw new TimeoutException($"another process has been sending from this wallet for over {timeout.TotalSeconds:0} s (it holds {path})", e);
            }
        }
    }

    private sealed class Turn(SemaphoreSlim turn, FileStream? file) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                file?.Dispose();
                turn.Release();
            }
        }
    }
}
