using System.Diagnostics;
using Duckton.Core.Crypto;
using Duckton.Ton.Rpc;
using Duckton.Ton.Wallets;

namespace Duckton.Ton.Tests;

/// <summary>The wallet's send turn: one sender at a time in this process, and the lock file another process can hold.</summary>
public sealed class WalletSendGateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-wallet-gate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Senders_of_one_wallet_in_one_process_take_turns_and_other_wallets_do_not_wait()
    {
        using var key = Ed25519Key.Generate();
        using var other = Ed25519Key.Generate();
        var wallet = new WalletV5R1(key.PublicKey).Address;
        var first = await WalletSendGate.EnterAsync(wallet, _dir, TimeSpan.FromMinutes(1));
        var second = WalletSendGate.EnterAsync(wallet, _dir, TimeSpan.FromMinutes(1));
        using (await WalletSendGate.EnterAsync(new WalletV5R1(other.PublicKey).Address, _dir, TimeSpan.FromMinutes(1)))
        {
            await Task.Delay(300);
            Assert.False(second.IsCompleted); // the same wallet waits for the first sender's turn to end
        }
        first.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(30))).Dispose();
        var lockFile = WalletSendGate.LockFile(_dir, wallet);
        Assert.True(File.Exists(lockFile));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(lockFile));
        }
    }

    [Fact]
    public async Task A_sender_waits_while_another_process_holds_the_wallet_lock_and_says_so_when_it_gives_up()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // flock(1) is the other process here
        }
        using var key = Ed25519Key.Generate();
        var wallet = new WalletV5R1(key.PublicKey).Address;
        var lockFile = WalletSendGate.LockFile(_dir, wallet);
        var psi = new ProcessStartInfo("flock") { UseShellExecute = false };
        foreach (var a in new[] { lockFile, "sleep", "120" })
        {
            psi.ArgumentList.Add(a);
        }
        using var holder = Process.Start(psi)!;
        try
        {
            // Wait until flock(1) holds it (our own probe must fail to lock it).
            var waited = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using (new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                    {
                    }
                }
                catch (FileNotFoundException)
                {
                    // not created yet
                }
                catch (IOException)
                {
                    break;
                }
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "flock did not take the lock");
                await Task.Delay(20);
            }

            var e = await Assert.ThrowsAsync<TimeoutException>(() => WalletSendGate.EnterAsync(wallet, _dir, TimeSpan.FromSeconds(1)));
            Assert.Contains("another process has been sending from this wallet", e.Message, StringComparison.Ordinal);
            Assert.Contains(lockFile, e.Message, StringComparison.Ordinal);

            var enter = WalletSendGate.EnterAsync(wallet, _dir, TimeSpan.FromMinutes(2));
            await Task.Delay(500);
            Assert.False(enter.IsCompleted); // still held by the other process
            holder.Kill(entireProcessTree: true); // the kernel releases its lock
            (await enter.WaitAsync(TimeSpan.FromSeconds(30))).Dispose();
        }
        finally
        {
            if (!holder.HasExited)
            {
                holder.Kill(entireProcessTree: true);
            }
        }
    }
}
