using System.Buffers;
using System.Text;

namespace Duckton.Core.Data;

internal static partial class BatchCodec
{
    /// <summary>
    /// Buffered writer over an <see cref="IBufferWriter{T}"/>: holds one span and advances the writer only when it
    /// needs a new span, so small writes do not each cost two interface calls.
    /// </summary>
    private ref struct Writer
    {
        private const int ChunkSize = 16 * 1024;
        private readonly IBufferWriter<byte> _output;
        private Span<byte> _span;
        private int _pos;

        public Writer(IBufferWriter<byte> output)
        {
            _output = output;
            _span = default;
            _pos = 0;
        }

        private void Ensure(int bytes)
        {
            if (_span.Length - _pos >= bytes)
            {
                return;
            }
            Flush();
            _span = _output.GetSpan(Math.Max(bytes, ChunkSize));
        }

        public void Flush()
        {
            if (_pos > 0)
            {
                _output.Advance(_pos);
            }
            _span = default;
            _pos = 0;
        }

        public void WriteByte(byte value)
        {
            Ensure(1);
            _span[_pos++] = value;
        }

        /// <summary>Unsigned LEB128: seven bits per byte, least significant group first, high bit set on all but the last byte.</summary>
        public void WriteVarUInt(uint value)
        {
            Ensure(5);
            while (value >= 0x80)
            {
                _span[_pos++] = (byte)(value | 0x80);
                value >>= 7;
            }
            _span[_pos++] = (byte)value;
        }

        public void WriteBytes(scoped ReadOnlySpan<byte> data)
        {
            while (!data.IsEmpty)
            {
                if (_pos == _span.Length)
                {
                    Ensure(1);
                }
                var take = Math.Min(data.Length, _span.Length - _pos);
                data[..take].CopyTo(_span[_pos..]);
                _pos += take;
                data = data[take..];
            }
        }

        /// <summary>A varint byte length and the UTF-8 bytes.</summary>
        public void WriteString(string value)
        {
            int length;
            try
            {
                length = s_strictUtf8.GetByteCount(value);
            }
            catch (EncoderFallbackException e)
            {
                throw new ArgumentException("name is not valid UTF-16 (lone surrogate)", nameof(value), e);
            }
            WriteVarUInt((uint)length);
            Ensure(length);
            _pos += s_strictUtf8.GetBytes(value, _span[_pos..]);
        }
    }

    /// <summary>Bounds-checked reader: every read checks the remaining bytes and throws <see cref="CodecException"/>.</summary>
    private ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _data;
        private int _pos;
        private long _valuesLeft;

        public Reader(ReadOnlySpan<byte> data, CodecLimits limits)
        {
            _data = data;
            _pos = 0;
            Limits = limits;
            MaxDepth = Math.Clamp(limits.MaxDepth, 1, CodecLimits.DepthCeiling);
            _valuesLeft = limits.MaxTotalValues;
        }

        public CodecLimits Limits { get; }
        public int MaxDepth { get; }
        public readonly int Remaining => _data.Length - _pos;
        public readonly long ValuesLeft => _valuesLeft;

        public void ExpectVersion()
        {
            var version = ReadByte("version");
            if (version != Version)
            {
                throw new CodecException($"unsupported codec version {version} (this build reads version {Version})");
            }
        }

        public readonly void ExpectEnd()
        {
            if (_pos != _data.Length)
            {
                throw new CodecException($"{_data.Length - _pos} unexpected bytes after the end of the encoding");
            }
        }

        /// <summary>Counts <paramref name="count"/> values against <see cref="CodecLimits.MaxTotalValues"/>.</summary>
        public void ChargeValues(long count)
        {
            if (count > _valuesLeft)
            {
                throw new CodecException($"batch holds more than {Limits.MaxTotalValues} values in all");
            }
            _valuesLeft -= count;
        }

        public byte ReadByte(string what)
        {
            if (_pos >= _data.Length)
            {
                throw new CodecException($"truncated input: expected {what}");
            }
            return _data[_pos++];
        }

        public ReadOnlySpan<byte> ReadBytes(long count, string what)
        {
            if (count > Remaining)
            {
                throw new CodecException($"truncated input: {what} need {count} bytes, {Remaining} remain");
            }
            var span = _data.Slice(_pos, (int)count);
            _pos += (int)count;
            return span;
        }

        /// <summary>A canonical LEB128 value of at most 32 bits (no redundant trailing zero groups).</summary>
        public uint ReadVarUInt32(string what)
        {
            uint value = 0;
            for (var shift = 0; shift < 35; shift += 7)
            {
                var b = ReadByte(what);
                if (shift == 28 && b > 0x0F)
                {
                    throw new CodecException($"{what} does not fit in 32 bits");
                }
                value |= (uint)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    if (b == 0 && shift > 0)
                    {
                        throw new CodecException($"{what} is not minimally encoded");
                    }
                    return value;
                }
            }
            throw new CodecException($"{what} does not fit in 32 bits");
        }

        /// <summary>
        /// A count of at most <paramref name="max"/> items that each take at least <paramref name="minBytesEach"/>
        /// further bytes, so a claimed count can never make the caller allocate more than the input could fill.
        /// </summary>
        public int ReadCount(int max, string what, int minBytesEach = 0)
        {
            var value = ReadVarUInt32(what);
            if (value > (uint)Math.Max(max, 0))
            {
                throw new CodecException($"{what} {value} exceeds the limit of {max}");
            }
            if ((long)value * minBytesEach > Remaining)
            {
                throw new CodecException($"truncated input: {what} {value} needs at least {(long)value * minBytesEach} more bytes, {Remaining} remain");
            }
            return (int)value;
        }

        public string ReadString(string what)
        {
            var length = ReadCount(Limits.MaxNameBytes, what + " length", 1);
            var bytes = ReadBytes(length, what);
            try
            {
                return s_strictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException e)
            {
                throw new CodecException($"{what} is not valid UTF-8", e);
            }
        }
    }
}
