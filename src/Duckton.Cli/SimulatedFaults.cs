using System.Diagnostics;
using Duckton.Core.Data;
using Duckton.Node.Grid;

namespace Duckton.Cli;

/// <summary>
/// SIMULATED host misbehaviour for demos and tests (<c>grid up --cheaters/--flaky</c>, the hidden <c>host --simulate</c>).
/// It lives in the CLI only: the node library and the DuckDB extension contain no fault code and cannot be made to misbehave.
/// </summary>
internal enum SimulatedFault
{
    None,
    /// <summary>Perturbs one value and commits the hash of what it sends (caught by the quorum).</summary>
    Cheat,
    /// <summary>Commits the correct hash but streams perturbed rows (caught by the requester's re-hash).</summary>
    Equivocate,
    /// <summary>Never commits (hangs until cancelled).</summary>
    StallCommit,
    /// <summary>Commits, sends one batch frame, then hangs.</summary>
    StallStream,
    /// <summary>Commits, sends one batch frame, then SIGKILLs its own process.</summary>
    DieStream,
    /// <summary>Alternates per job between stalling before the commit and stalling mid-stream.</summary>
    Flaky,
    /// <summary>
    /// One of a colluding group: every member perturbs the same value the same way (the first candidate value, bit 1),
    /// so the members agree with each other on a wrong answer (caught while the group is smaller than the quorum).
    /// </summary>
    Collude,
    /// <summary>
    /// Equivocates across requesters: a random half of its jobs get a wrong answer (bit 2 of the first candidate value),
    /// the other half the right one, so different requesters (and different jobs) see different answers.
    /// </summary>
    SplitView,
    /// <summary>Quotes its configured price in its bids, then claims twice that in the signed commit of a paid job (caught by the requester).</summary>
    Overcharge,
    /// <summary>Sends every result with its commit, up to 1 MiB, whatever the dispatch allowed (caught by the requester that reads it).</summary>
    OverInline,
}

/// <summary>
/// The <see cref="IJobFaults"/> of a SIMULATED misbehaving host: a fault, an optional extra delay before every commit,
/// and optionally hiding the receipts about itself (it advertises none).
/// </summary>
internal sealed class SimulatedFaults(SimulatedFault fault, TimeSpan commitDelay, bool hideReceipts) : IJobFaults
{
    private long _jobs;

    public (ulong Count, byte[] Digest) AdvertisedReceipts((ulong Count, byte[] Digest) held) => hideReceipts ? (0, new byte[32]) : held;

    public IJobFault ForJob()
    {
        var f = fault == SimulatedFault.Flaky
            ? (Interlocked.Increment(ref _jobs) % 2 == 0 ? SimulatedFault.StallCommit : SimulatedFault.StallStream)
            : fault;
        return new Job(f, commitDelay);
    }

    private sealed class Job(SimulatedFault fault, TimeSpan commitDelay) : IJobFault
    {
        public long InlineLimit(long allowed) => fault == SimulatedFault.OverInline ? 1 << 20 : allowed;

        public ulong ClaimedPrice(ulong honest) => fault == SimulatedFault.Overcharge ? (honest > ulong.MaxValue / 2 ? ulong.MaxValue : honest * 2) : honest;

        public async ValueTask<bool> BeforeCommitAsync(CancellationToken cancellationToken)
        {
            if (fault == SimulatedFault.StallCommit)
            {
                await WaitCancelled(cancellationToken).ConfigureAwait(false);
                return false;
            }
            if (commitDelay > TimeSpan.Zero)
            {
                await Task.Delay(commitDelay, cancellationToken).ConfigureAwait(false);
            }
            return true;
        }

        public (ResultSet Sent, ResultSet Committed) Answer(ResultSet result)
        {
            var sent = fault switch
            {
                SimulatedFault.Cheat or SimulatedFault.Equivocate => Perturb(result),
                // Distinct bits per kind of liar: independent liars never agree by accident, only a colluding group does.
                SimulatedFault.Collude => Perturb(result, mask: 2, first: true),
                SimulatedFault.SplitView when Random.Shared.Next(2) == 0 => Perturb(result, mask: 4, first: true),
                _ => result,
            };
            return (sent, fault == SimulatedFault.Equivocate ? result : sent);
        }

        public async ValueTask AfterBatchAsync(CancellationToken cancellationToken)
        {
            if (fault == SimulatedFault.DieStream)
            {
                await Console.Error.WriteLineAsync("SIMULATED flaky host: killing this process (SIGKILL) mid-stream").ConfigureAwait(false);
                Process.GetCurrentProcess().Kill();
            }
            if (fault == SimulatedFault.StallStream)
            {
                await WaitCancelled(cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    private static async Task WaitCancelled(CancellationToken token)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A copy of <paramref name="result"/> with one valid value changed (SIMULATED cheating).</summary>
    internal static ResultSet Perturb(ResultSet result, byte mask = 1, bool first = false)
    {
        var candidates = new List<(int Batch, int Column, int Row)>();
        for (var b = 0; b < result.Batches.Count; b++)
        {
            var batch = result.Batches[b];
            for (var c = 0; c < batch.Columns.Length; c++)
            {
                var col = batch.Columns[c];
                if ((col.Type.FixedWidth > 0 && col.Type.Id != DuckTypeId.Enum) || col.Type.Id is DuckTypeId.Varchar or DuckTypeId.Blob)
                {
                    for (var r = 0; r < batch.RowCount && candidates.Count < 4096; r++)
                    {
                        if (col.IsValid(r) && (col.Type.FixedWidth > 0 || col.GetBytes(r).Length > 0))
                        {
                            candidates.Add((b, c, r));
                        }
                    }
                }
            }
        }
        if (candidates.Count == 0)
        {
            return result;
        }
        var (bi, ci, ri) = candidates[first ? 0 : Random.Shared.Next(candidates.Count)];
        var batches = result.Batches.ToArray();
        var old = batches[bi];
        var columns = (ColumnVector[])old.Columns.Clone();
        var v = columns[ci];
        if (v.Type.FixedWidth > 0)
        {
            var data = (byte[])v.Fixed.Clone();
            data[ri * v.Type.FixedWidth] ^= mask;
            columns[ci] = new ColumnVector(v.Type, v.Length, data, v.Validity, v.Offsets, v.Bytes, v.Children);
        }
        else
        {
            var data = (byte[])v.Bytes.Clone();
            data[v.Offsets[ri]] ^= mask;
            columns[ci] = new ColumnVector(v.Type, v.Length, v.Fixed, v.Validity, v.Offsets, data, v.Children);
        }
        batches[bi] = new ResultBatch(old.Schema, columns, old.RowCount);
        return new ResultSet(result.Schema, batches);
    }
}
