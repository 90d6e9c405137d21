using System.Diagnostics;
using System.Threading.Channels;
using Duckton.Core.Data;
using Duckton.Core.Hashing;
using Duckton.Core.Protocol;
using Duckton.Transport;
using CoreConfig = Duckton.Core.Configuration;

namespace Duckton.Node.Grid;

// The coordinator, part: one host's run through a job (offer, bid, dispatch, commit, fetch), owned by that run.
public sealed partial class Coordinator
{
    private sealed record FetchResult(ResultSet? Result, long Bytes, string? Error, bool Equivocated)
    {
        /// <summary>Refused on size: every agreeing host would send the same too-large result, and none is to blame.</summary>
        public bool TooLarge { get; init; }

        /// <summary>The host broke the protocol while sending (more rows than the dispatch allowed with its commit): its fault.</summary>
        public bool Violation { get; init; }
    }

    /// <summary>One host's pipeline in one attempt: offer, bid, dispatch, commit; then fetch or release.</summary>
    private sealed class HostRun(Coordinator owner, PeerEntry candidate, OfferMessage offer, DispatchMessage dispatch, CoreConfig.SchedulerConfig scheduler, ChannelWriter<HostRun> events)
    {
        private static int s_order;
        private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _finished;
        private PeerConnection? _connection;
        private Task<Frame>? _pending;
        private bool _offered;
        private bool _dispatched;
        private int _released;
        /// <summary>The dispatch as sent asked for inline rows (0: it did not).</summary>
        private uint _inlineLimit;
        /// <summary>The host answered CommitRows: its rows and End follow unasked, and nothing more is sent to it for this job.</summary>
        private bool _rowsFollow;

        public PeerEntry Candidate { get; } = candidate;
        public CommitMessage? Commit { get; set; }

        /// <summary>The last commit of this run that was checked, and what was wrong with it (null: nothing).</summary>
        public CheckedCommit? CommitCheck { get; set; }

        /// <summary>The host sent its rows with its commit (protocol 1.1 inline rows), not on a Fetch.</summary>
        public bool RowsCameWithCommit => _rowsFollow;

        /// <summary>The price the host quoted in its bid (null: none, it charges nothing).</summary>
        public PriceQuote? Quote { get; private set; }

        /// <summary>What an honest host's commit claims: a paid job's bill under its quote, nothing for a free job.</summary>
        public ulong ExpectedClaim(CommitMessage commit) => dispatch.AgreedPriceNanoton is null ? 0 : (Quote ?? default).Bill(dispatch.TimeoutMs, commit.ExecMicros);
        public int CommitOrder { get; private set; }
        public string? Failure { get; set; }
        /// <summary>A verdict fixed by what happened outside the quorum (bad commit, equivocation, broken stream).</summary>
        public Duckton.Core.Trust.Verdict? JudgedAs { get; set; }
        /// <summary>Requester-measured milliseconds from starting this host to its commit.</summary>
        public double CommitLatencyMs { get; private set; }
        public long FetchedBytes { get; set; }
        public JobErrorCode? FailureCode { get; private set; }

        /// <summary>The host turned the job down for lack of room (declined at capacity, or a Busy error): worth asking
        /// again after a backoff, not a fault to exclude it for.</summary>
        public bool Busy => FailureCode == JobErrorCode.Busy
            || Failure?.StartsWith("declined: at capacity", StringComparison.Ordinal) == true
            || Failure?.Contains("(worker.max_jobs_per_peer)", StringComparison.Ordinal) == true
            || Failure?.Contains("(worker.max_pending_offers", StringComparison.Ordinal) == true;
        public string? FailureDetail { get; private set; }

        /// <summary>The host broke the protocol before its commit counted (rows with a commit the dispatch did not ask for).</summary>
        public bool Violated { get; private set; }
        public bool Reported { get; set; }

        /// <summary>Runs up to the first wait on the caller's thread (renting a pooled connection and sending the offer), no thread hop.</summary>
        public void Start() => _ = RunAsync();

        private async Task RunAsync()
        {
            var sw = Stopwatch.StartNew();
            try
            {
                using var connectTimeout = new CancellationTokenSource(scheduler.OfferTimeout);
                _connection = await owner._pool.RentAsync(Candidate.Address, Candidate.NodeId, connectTimeout.Token).ConfigureAwait(false);
                if (_stop.Task.IsCompleted)
                {
                    owner._pool.Return(_connection);
                    _connection = null;
                    throw new OperationCanceledException();
                }
                var rtt = Stopwatch.StartNew();
                // Inline rows only from a host that speaks 1.1 (an older one would refuse the field).
                _inlineLimit = _connection.SpeaksAtLeast(1, 1) ? dispatch.InlineLimit : 0;
                var sent = _inlineLimit == dispatch.InlineLimit ? dispatch : dispatch with { InlineLimit = 0 };
                // A free job whose bid cannot refuse the host sends its Dispatch right behind the Offer (one write, no round
                // trip): the host answers the Offer first, so the Bid still authorises the Dispatch; one that declines answers
                // the Dispatch with not-authorized. A paid job waits for the quote, a job with an attestation floor for the bid.
                var pipelined = owner.DispatchWithOffer(offer);
                if (pipelined)
                {
                    await _connection.SendManyAsync([(MessageType.Offer, offer.Encode()), (MessageType.Dispatch, sent.Encode())]).ConfigureAwait(false);
                    _dispatched = true;
                }
                else
                {
                    await _connection.SendAsync(MessageType.Offer, offer.Encode()).ConfigureAwait(false);
                }
                _offered = true;
                var reply = await Next(pipelined ? scheduler.OfferTimeout + ProtoLimits.PipelinedBidHold : scheduler.OfferTimeout).ConfigureAwait(false);
                // A host may hold the Bid of a pipelined Dispatch to send it with the commit: it would time the job, not the
                // trip (each gossip round's ping measures that).
                owner._membership.ObserveContact(Candidate.NodeId, pipelined ? null : rtt.Elapsed.TotalMilliseconds);
                if (reply.Type == MessageType.Decline)
                {
                    _offered = false;
                    throw new HostFailure("declined: " + ReasonMessage.Decode(reply.Payload.Span).Reason);
                }
                var bid = reply.Type == MessageType.Bid ? BidMessage.Decode(reply.Payload.Span) : null;
                if (bid is null || bid.JobId != offer.JobId)
                {
                    throw new HostFailure($"expected a Bid, got {reply.Type}");
                }
                if (owner.CheckBid(Candidate, offer.Nonce, bid) is { } attestationProblem)
                {
                    _offered = false;
                    throw new HostFailure("attestation: " + attestationProblem);
                }
                _offered = false;
                Quote = bid.Quote;
                if (offer.Paid)
                {
                    // The host's price for this job's time bound must fit the bid; it is what the dispatch agrees to pay.
                    var price = (bid.Quote ?? default).JobCap(dispatch.TimeoutMs);
                    if (price > offer.MaxBidNanoton)
                    {
                        throw new HostFailure($"price: the host quotes {bid.Quote}, {PriceQuote.Describe(price)} for this job, above the max bid of {PriceQuote.Describe(offer.MaxBidNanoton)} (economics.pricing.max_bid)" + Worker.AsksSuffix(price));
                    }
                    sent = dispatch = dispatch with { AgreedPriceNanoton = price };
                }
                if (!pipelined)
                {
                    await _connection.SendAsync(MessageType.Dispatch, sent.Encode()).ConfigureAwait(false);
                    _dispatched = true;
                }
                var answer = await Next(scheduler.DispatchTimeout).ConfigureAwait(false);
                switch (answer.Type)
                {
                    case MessageType.CommitRows when _inlineLimit == 0:
                        throw new HostFailure("protocol: the host sent rows with its commit that the dispatch did not ask for") { Violation = true };
                    case MessageType.Commit:
                    case MessageType.CommitRows:
                        _rowsFollow = answer.Type == MessageType.CommitRows;
                        Commit = CommitMessage.Decode(answer.Payload.Span);
                        CommitLatencyMs = sw.Elapsed.TotalMilliseconds;
                        CommitOrder = Interlocked.Increment(ref s_order);
                        break;
                    case MessageType.Error:
                        _dispatched = false;
                        var error = ErrorMessage.Decode(answer.Payload.Span);
                        FailureCode = error.Code;
                        FailureDetail = error.Message;
                        throw new HostFailure($"{error.Code}: {error.Message}");
                    case MessageType.End:
                        _dispatched = false;
                        throw new HostFailure("the host cancelled the job");
                    default:
                        throw new HostFailure($"expected a Commit, got {answer.Type}");
                }
            }
            catch (Exception e)
            {
                Violated = e is HostFailure { Violation: true };
                Failure = e switch
                {
                    HostFailure h => h.Message,
                    OperationCanceledException when _stop.Task.IsCompleted => "cancelled",
                    OperationCanceledException or TimeoutException => $"timed out after {sw.ElapsedMilliseconds} ms",
                    PeerRejectedException r => $"handshake rejected: {r.Reason}",
                    _ => e.Message,
                };
                if (e is not HostFailure && !_stop.Task.IsCompleted)
                {
                    owner._membership.ObserveFailure(Candidate.NodeId);
                }
                events.TryWrite(this);
                Recycle();
                return;
            }
            // Committed. If the attempt already moved on (quorum reached without us), nobody will read this event:
            // release the held result ourselves.
            Volatile.Write(ref _finished, true);
            events.TryWrite(this);
            if (_stop.Task.IsCompleted)
            {
                Recycle();
            }
        }

        /// <summary>The next frame within <paramref name="timeout"/>; a stop request cancels the wait (the read stays pending).</summary>
        private async Task<Frame> Next(TimeSpan timeout)
        {
            _pending ??= _connection!.ReceiveAsync().AsTask();
            if (_pending.IsCompleted)
            {
                var ready = await _pending.ConfigureAwait(false);
                _pending = null;
                return ready;
            }
            // The timer is cancelled as soon as the wait ends: a stalled host must not leave timers behind per query.
            using var timer = new CancellationTokenSource();
            var delay = Task.Delay(timeout, timer.Token);
            var winner = await Task.WhenAny(_pending, delay, _stop.Task).ConfigureAwait(false);
            await timer.CancelAsync().ConfigureAwait(false);
            if (winner == _pending)
            {
                var frame = await _pending.ConfigureAwait(false);
                _pending = null;
                return frame;
            }
            if (winner == _stop.Task)
            {
                throw new OperationCanceledException();
            }
            var c = _connection;
            _connection = null;
            if (c is not null)
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
            throw new TimeoutException();
        }

        /// <summary>Cancels this host's job (if any) and recycles the connection in the background.</summary>
        public void Release()
        {
            _stop.TrySetResult();
            if (Reported || Volatile.Read(ref _finished))
            {
                Recycle();
            }
        }

        /// <summary>Completes when the connection went back to the pool (or was closed) after <see cref="Release"/>.</summary>
        public Task Recycled => _recycled.Task;

        private readonly TaskCompletionSource _recycled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private void Recycle()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }
            var c = _connection;
            _connection = null;
            if (c is null)
            {
                _recycled.TrySetResult();
                return;
            }
            if (!_dispatched && !_offered && _pending is null)
            {
                // Nothing in flight on it (the job ended with its inline rows, or was never sent): back to the pool at once.
                owner._pool.Return(c);
                _recycled.TrySetResult();
                return;
            }
            _ = Task.Run(async () =>
            {
                try
                {
                    // Rows that follow a CommitRows are usually here already, End included: then no Cancel is needed.
                    var cancelled = false;
                    var until = Stopwatch.StartNew();
                    while (_dispatched || _offered || _pending is not null)
                    {
                        _pending ??= c.ReceiveAsync().AsTask();
                        if (_dispatched && !cancelled && (!_rowsFollow || !_pending.IsCompleted))
                        {
                            cancelled = true;
                            await c.SendAsync(MessageType.Cancel, new ReasonMessage(dispatch.JobId, "lost race").Encode()).ConfigureAwait(false);
                        }
                        var left = s_drainTimeout - until.Elapsed;
                        if (!_pending.IsCompleted && (left <= TimeSpan.Zero || !await TaskWaits.Within(_pending, left).ConfigureAwait(false)))
                        {
                            await c.DisposeAsync().ConfigureAwait(false);
                            return;
                        }
                        var f = await _pending.ConfigureAwait(false);
                        _pending = null;
                        if (f.Type is MessageType.Bid or MessageType.Decline)
                        {
                            _offered = false;
                        }
                        if (f.Type is MessageType.End or MessageType.Error && JobFrames.JobIdOf(f.Payload.Span) == dispatch.JobId)
                        {
                            _dispatched = false;
                        }
                    }
                    owner._pool.Return(c);
                }
                catch (Exception)
                {
                    await c.DisposeAsync().ConfigureAwait(false);
                }
                finally
                {
                    _recycled.TrySetResult();
                }
            });
        }

        /// <summary>
        /// Fetches the committed rows; they are returned only when they re-hash to <paramref name="agreed"/>. Pipelined: this task
        /// reads frames (pooled buffers) and grants credit, a second task decodes them and feeds the hasher; a bounded channel
        /// between them caps memory in flight (when it is full, no credit is granted and the host pauses).
        /// </summary>
        public async Task<FetchResult> FetchAsync(ResultSchema schema, CommitMessage agreed, CoreConfig.NodeConfig config, CancellationToken cancellationToken, FetchEscrow? escrow = null)
        {
            var c = _connection;
            if (c is null)
            {
                return new FetchResult(null, 0, "no connection", false);
            }
            var stall = scheduler.ProgressInterval * scheduler.ProgressStallMultiplier;
            if (stall <= TimeSpan.Zero)
            {
                stall = scheduler.DispatchTimeout;
            }
            var maxBytes = config.Transport.Result.MaxResultBytes;
            var frames = Channel.CreateBounded<LeasedFrame>(new BoundedChannelOptions(InitialCredit) { SingleReader = true, SingleWriter = true });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var spool = new SpooledBatches(schema, config.Transport.Result.MaxBufferBytes, owner.SpillDirectory ?? Path.GetTempPath());
            // No Task.Run: the decoder's first await (for a frame) yields at once; it then runs on the channel's continuations.
            var decoder = DecodeAsync(frames.Reader, schema, agreed, spool, stop);
            var delivered = false;
            try
            {
                if (!_rowsFollow)
                {
                    await c.SendAsync(MessageType.Fetch, new FetchMessage(dispatch.JobId, InitialCredit) { Escrow = escrow }.Encode(), cancellationToken).ConfigureAwait(false);
                }
                long bytes = 0;
                var consumed = 0;
                uint expectedSeq = 0;
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (decoder.IsCompleted)
                    {
                        break; // the decoder stopped early (equivocation or a bad batch): its result says why
                    }
                    var frame = await NextLeased(stall, stop.Token).ConfigureAwait(false);
                    if (frame is null)
                    {
                        break; // decoder stopped
                    }
                    if (frame.Type == MessageType.Batch)
                    {
                        var seq = PeekBatchHeader(frame.Payload.Span, out var job);
                        if (job != dispatch.JobId || seq != expectedSeq++)
                        {
                            frame.Dispose();
                            throw new HostFailure("batch frame out of sequence");
                        }
                        bytes += frame.Payload.Length;
                        if (_rowsFollow && bytes > _inlineLimit)
                        {
                            frame.Dispose();
                            throw new HostFailure($"protocol: the host sent more than the {_inlineLimit} bytes of rows the dispatch allowed inline") { Violation = true };
                        }
                        if (bytes > maxBytes)
                        {
                            frame.Dispose();
                            throw new HostFailure($"the result is over {Worker.Size(maxBytes)}, this requester's limit (transport.result.max_result_bytes)") { TooLarge = true };
                        }
                        try
                        {
                            await frames.Writer.WriteAsync(frame, stop.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            frame.Dispose();
                            break;
                        }
                        if (++consumed == InitialCredit / 2 && !_rowsFollow)
                        {
                            consumed = 0;
                            await c.SendAsync(MessageType.Fetch, new FetchMessage(dispatch.JobId, InitialCredit / 2).Encode(), cancellationToken).ConfigureAwait(false);
                        }
                        continue;
                    }
                    using (frame)
                    {
                        if (frame.Type == MessageType.End)
                        {
                            var end = EndMessage.Decode(frame.Payload.Span);
                            if (end.JobId != dispatch.JobId || end.Status != EndStatus.Complete)
                            {
                                throw new HostFailure("the host ended the stream without completing it");
                            }
                            _dispatched = false;
                            frames.Writer.TryComplete();
                            var decoded = await decoder.ConfigureAwait(false);
                            if (decoded.Error is { } bad)
                            {
                                return await Fail(bad, decoded.Equivocated).ConfigureAwait(false);
                            }
                            var digest = decoded.Digest!;
                            if ((ulong)decoded.Rows != agreed.RowCount || digest != agreed.ResultHash)
                            {
                                return await Fail($"equivocation: committed {agreed.ResultHash[..12]}… ({agreed.RowCount} rows) but streamed rows hashing to {digest[..12]}… ({decoded.Rows} rows)", true).ConfigureAwait(false);
                            }
                            _connection = null;
                            owner._pool.Return(c);
                            Interlocked.Exchange(ref _released, 1);
                            // Every row re-hashed to the agreed hash: only now may the caller read them (from memory or the spill file).
                            delivered = true;
                            return new FetchResult(new ResultSet(schema, spool, decoded.Rows), bytes, null, false);
                        }
                        if (frame.Type == MessageType.Error)
                        {
                            _dispatched = false;
                            var error = ErrorMessage.Decode(frame.Payload.Span);
                            throw new HostFailure(error.Message) { TooLarge = error.Code == JobErrorCode.ResultTooLarge };
                        }
                        throw new HostFailure($"unexpected {frame.Type} frame while streaming");
                    }
                }
                // The decoder stopped before the End frame.
                frames.Writer.TryComplete();
                var early = await decoder.ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                return await Fail(early.Error ?? "the result stream stopped early", early.Equivocated).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HostFailure or ProtocolException or CodecException or IOException or TimeoutException or EndOfStreamException or OperationCanceledException or InvalidDataException)
            {
                var why = e is TimeoutException ? $"stalled mid-stream (no frame for {stall.TotalMilliseconds:0} ms)" : e.Message;
                await stop.CancelAsync().ConfigureAwait(false);
                frames.Writer.TryComplete();
                await ((Task)decoder).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return (await Fail(why, false).ConfigureAwait(false)) with { TooLarge = e is HostFailure { TooLarge: true }, Violation = e is HostFailure { Violation: true } };
            }
            finally
            {
                if (!delivered)
                {
                    // Failed, equivocated, cancelled or threw: the spilled rows were never verified; delete them now.
                    await stop.CancelAsync().ConfigureAwait(false);
                    frames.Writer.TryComplete();
                    await ((Task)decoder).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    spool.Dispose();
                }
            }

            async Task<FetchResult> Fail(string why, bool equivocated)
            {
                Failure = why;
                await DropConnection().ConfigureAwait(false);
                return new FetchResult(null, 0, why, equivocated);
            }
        }

        private sealed record Decoded(long Rows, string? Digest, string? Error, bool Equivocated);

        /// <summary>Results of at most this many committed rows are hashed on the decoding task itself.</summary>
        private const ulong InlineHashRows = 16_384;

        /// <summary>
        /// The decode side of the fetch pipeline; decoded batches go to hashing tasks (bounded channel), so reading, decoding
        /// and hashing overlap. Stops (and cancels the reader) at the first bad batch.
        /// </summary>
        private async Task<Decoded> DecodeAsync(ChannelReader<LeasedFrame> frames, ResultSchema schema, CommitMessage agreed, SpooledBatches batches, CancellationTokenSource stop)
        {
            var limits = CodecLimits.Default;
            var toHash = Channel.CreateBounded<ResultBatch>(new BoundedChannelOptions(64) { SingleReader = s_hashThreads == 1, SingleWriter = true });
            // A small result is hashed right here: separate hashing tasks only pay off when there is work to overlap.
            var direct = agreed.RowCount <= InlineHashRows ? new CanonicalResultHasher(schema) : null;
            var hashing = direct is not null ? Task.FromResult("") : HashAsync(schema, toHash);
            long rows = 0;
            try
            {
                while (await frames.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    while (frames.TryRead(out var frame))
                    {
                        using (frame)
                        {
                            var (_, _, parts) = BatchFrame.Decode(frame.Payload, owner.MaxFrameBytes);
                            foreach (var part in parts)
                            {
                                var batch = BatchCodec.DecodeBatch(part.Span, schema, limits);
                                rows += batch.RowCount;
                                if ((ulong)rows > agreed.RowCount)
                                {
                                    await stop.CancelAsync().ConfigureAwait(false);
                                    Drain(frames);
                                    toHash.Writer.TryComplete();
                                    await ((Task)hashing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                                    return new Decoded(rows, null, $"streamed more rows than the committed {agreed.RowCount}", true);
                                }
                                if (direct is not null)
                                {
                                    direct.Add(batch);
                                }
                                else
                                {
                                    await toHash.Writer.WriteAsync(batch).ConfigureAwait(false);
                                }
                                // Beyond transport.result.max_buffer_bytes the wire bytes go to the spill file instead of memory.
                                batches.Add(batch, part.Span);
                            }
                        }
                    }
                }
                toHash.Writer.TryComplete();
                return new Decoded(rows, direct is not null ? direct.Finish().ToString() : await hashing.ConfigureAwait(false), null, false);
            }
            catch (Exception e) when (e is ProtocolException or CodecException or InvalidDataException or ArgumentException or ChannelClosedException or IOException)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                Drain(frames);
                toHash.Writer.TryComplete();
                await ((Task)hashing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return new Decoded(rows, null, e is ChannelClosedException { InnerException: { } inner } ? inner.Message
                    : e is IOException ? "cannot spill the result to disk: " + e.Message : e.Message, false);
            }

            static void Drain(ChannelReader<LeasedFrame> frames)
            {
                while (frames.TryRead(out var f))
                {
                    f.Dispose();
                }
            }
        }

        /// <summary>Tasks that re-hash a large fetched result, each taking whichever decoded batch comes next (the hash is over the multiset of rows).</summary>
        private static readonly int s_hashThreads = Math.Clamp(Environment.ProcessorCount, 1, 4);

        /// <summary>Hashes every batch of <paramref name="toHash"/> on <see cref="s_hashThreads"/> tasks and merges their digests at the end.</summary>
        private static async Task<string> HashAsync(ResultSchema schema, Channel<ResultBatch> toHash)
        {
            var parts = new Task<CanonicalResultHasher>[s_hashThreads];
            for (var i = 0; i < parts.Length; i++)
            {
                parts[i] = Task.Run(async () =>
                {
                    try
                    {
                        var hasher = new CanonicalResultHasher(schema);
                        while (await toHash.Reader.WaitToReadAsync().ConfigureAwait(false))
                        {
                            while (toHash.Reader.TryRead(out var batch))
                            {
                                hasher.Add(batch);
                            }
                        }
                        return hasher;
                    }
                    catch (Exception e)
                    {
                        toHash.Writer.TryComplete(e); // the decoder's next write fails instead of waiting for room forever
                        throw;
                    }
                }, CancellationToken.None);
            }
            var hashers = await Task.WhenAll(parts).ConfigureAwait(false);
            for (var i = 1; i < hashers.Length; i++)
            {
                hashers[0].Absorb(hashers[i]);
            }
            return hashers[0].Finish(overlapSort: s_hashThreads > 1).ToString();
        }

        /// <summary>The job id and sequence number of a Batch payload (the batches themselves are split by the decoder).</summary>
        private static uint PeekBatchHeader(ReadOnlySpan<byte> payload, out string jobId)
        {
            if (payload.Length < 22)
            {
                throw new ProtocolException("truncated batch frame");
            }
            jobId = Convert.ToHexStringLower(payload[..16]);
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(payload[16..]);
        }

        /// <summary>The next frame (pooled buffer) within <paramref name="timeout"/>; null when <paramref name="stopToken"/> fires first.</summary>
        private async Task<LeasedFrame?> NextLeased(TimeSpan timeout, CancellationToken stopToken)
        {
            if (_pending is not null)
            {
                throw new HostFailure("internal: a control read is still outstanding on the fetch connection");
            }
            var read = _connection!.ReceiveLeasedAsync(CancellationToken.None);
            if (read.IsCompletedSuccessfully)
            {
                return read.Result;
            }
            var pending = read.AsTask();
            try
            {
                return await pending.WaitAsync(timeout, stopToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && stopToken.IsCancellationRequested))
            {
                // Timed out or stopped with the read outstanding: the connection is unusable; dispose it (the read then fails), and
                // return the buffer should the frame still arrive.
                _ = pending.ContinueWith(static t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Dispose();
                    }
                    else
                    {
                        _ = t.Exception;
                    }
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                await DropConnection().ConfigureAwait(false);
                if (e is OperationCanceledException)
                {
                    return null;
                }
                throw;
            }
        }

        private async Task DropConnection()
        {
            Interlocked.Exchange(ref _released, 1);
            var c = _connection;
            _connection = null;
            if (c is not null)
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed class HostFailure(string message) : Exception(message)
    {
        /// <summary>The result is over a size bound (the host's frame limit or this requester's result limit): no fault of the host.</summary>
        public bool TooLarge { get; init; }

        /// <summary>The host broke the protocol (rows it was not allowed to send): a fault of the host, not a stall.</summary>
        public bool Violation { get; init; }
    }
}
