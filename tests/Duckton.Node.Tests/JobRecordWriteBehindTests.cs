using System.Diagnostics;
using Duckton.DuckDB.Native;
using Duckton.Node.Trust;

namespace Duckton.Node.Tests;

/// <summary>
/// The job record a verified remote query leaves is written behind with the receipts: queuing it does not touch the
/// store file, the background writer commits it within the write-behind window, and a clean dispose commits whatever
/// is still queued.
/// </summary>
public sealed class JobRecordWriteBehindTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-job-records-").FullName;

    public JobRecordWriteBehindTests() => DuckDBNative.InitializeFromLibrary();

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

    private static byte[] Cert(int i) => Duckton.Core.Hashing.Blake3.Hash(BitConverter.GetBytes(i));

    private static void Add(TrustStore store, int i, DateTimeOffset at) =>
        store.AddJobRecord($"job-{i:D4}", "q" + new string('a', 63), $"hash-{i}", Cert(i), "requester-1", $"winner-{i % 3}", at);

    /// <summary>Holds the store's OS lock, as another process in the middle of a long session would.</summary>
    private FileStream HoldStoreLock() => new(Path.Combine(_dir, "trust", "trust.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

    [Fact]
    public async Task Queuing_a_job_record_does_not_wait_on_the_store_and_a_clean_dispose_loses_none()
    {
        var at = DateTimeOffset.UtcNow;
        var store = TrustStore.Open(_dir);
        try
        {
            // While the file is locked by "another process", a synchronous write would wait for the lock (up to
            // TrustStore.LockTimeout, 60 s). Queuing must not: 300 records from three threads return at once.
            using (HoldStoreLock())
            {
                var queued = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, 3).Select(t => Task.Run(() =>
                {
                    for (var i = t; i < 300; i += 3)
                    {
                        Add(store, i, at);
                    }
                })));
                Assert.True(queued.Elapsed < TimeSpan.FromSeconds(5), $"queuing took {queued.Elapsed}");
                await Task.Delay(TrustStore.WriteBehindWindow * 3); // the writer is due, but cannot take the lock
                Assert.Equal(300, store.PendingJobRecords);
            }

            // Lock released: the background writer commits them with no read or flush asked for.
            var waited = Stopwatch.StartNew();
            while (store.PendingJobRecords > 0 && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(10);
            }
            Assert.Equal(0, store.PendingJobRecords);

            // Queued just before a clean dispose (inside the write-behind window): Dispose commits them. A repeat of a
            // job id is idempotent, as before.
            for (var i = 300; i < 350; i++)
            {
                Add(store, i, at);
            }
            Add(store, 7, at);
            Assert.InRange(store.PendingJobRecords, 1, 51);
        }
        finally
        {
            store.Dispose();
        }
        Assert.Throws<ObjectDisposedException>(() => Add(store, 999, at)); // refused, not queued after the last flush

        using var reopened = TrustStore.Open(_dir);
        for (var i = 0; i < 350; i++)
        {
            var r = reopened.JobRecordOf($"job-{i:D4}");
            Assert.NotNull(r);
            Assert.Equal(($"hash-{i}", $"winner-{i % 3}", "requester-1"), (r.ResultHash, r.Winner, r.Requester));
            Assert.Equal(Cert(i), r.CertificateHash);
            Assert.Equal(at.ToUnixTimeMilliseconds(), r.At.ToUnixTimeMilliseconds());
            Assert.Null(r.Epoch);
        }
        Assert.Null(reopened.JobRecordOf("job-0999"));

        // Sealing commits what is still queued first: a record queued a moment ago is in the epoch.
        Add(reopened, 350, at);
        var sealedEpoch = reopened.SealEpoch(at.AddSeconds(1));
        Assert.NotNull(sealedEpoch);
        Assert.Equal(351, sealedEpoch.LeafCount);
        Assert.Equal(sealedEpoch.Epoch, reopened.JobRecordOf("job-0350")!.Epoch);
    }
}
