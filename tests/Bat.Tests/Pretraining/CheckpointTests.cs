using Bat.Training;
using static TorchSharp.torch;

namespace Bat.Tests.Pretraining;

public class CheckpointTests
{
    [Fact]
    public void RoundTripsTensorsSpanningSeveralChunksAndLoadsOnlyTheKeptOnes()
    {
        using var scope = NewDisposeScope();
        var run = Directory.CreateTempSubdirectory("bat-ckpt-").FullName;
        try
        {
            manual_seed(3);
            var big = randn(5, 3_000_000);              // 60 MB: four 16 MB chunks
            var small = randn(7, 3);
            var scalar = tensor(new[] { 2.5f });
            var path = Checkpoint.Save(run, 12, 99, [("student.big", big), ("student.small", small), ("optim.m", scalar)]);

            var (header, all) = Checkpoint.Read(path);
            Assert.Equal((12L, 99L), (header.Step, header.Seed));
            Assert.True(all["student.big"].equal(big).all().item<bool>());
            Assert.True(all["student.small"].equal(small).all().item<bool>());
            Assert.Equal(2.5f, all["optim.m"].item<float>());

            var (_, kept) = Checkpoint.Read(path, keep: name => name.StartsWith("optim.", StringComparison.Ordinal));
            Assert.Equal(["optim.m"], kept.Keys);

            // Truncation is caught by the checksum before anything is trusted.
            using (var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite)) f.SetLength(f.Length - 4);
            var error = Assert.Throws<BatException>(() => Checkpoint.Read(path));
            Assert.Contains("corrupted", error.Message);
        }
        finally { Directory.Delete(run, recursive: true); }
    }

    [Fact]
    public void CheckpointOverTwoGigabytesRoundTrips()
    {
        // One tensor of 2 GiB + 4 KiB (more than int.MaxValue bytes, the old single-array limit) and a tensor
        // behind it at an offset past 2^31. Filled with a cheap pattern; markers check placement end to end.
        var run = Directory.CreateTempSubdirectory("bat-ckpt-2g-").FullName;
        const long count = (1L << 29) + 1024;
        try
        {
            string path;
            using (var scope = NewDisposeScope())
            {
                var big = ones(count);
                big[0] = tensor(-1f);
                big[(1L << 29) - 1] = tensor(-2f);
                big[count - 1] = tensor(-3f);
                var tail = arange(10, dtype: ScalarType.Float32);
                path = Checkpoint.Save(run, 1, 0, [("student.big", big), ("student.tail", tail)]);
            }
            Assert.True(new FileInfo(path).Length > (2L << 30));

            using (var scope = NewDisposeScope())
            {
                var (header, tensors) = Checkpoint.Read(path);
                Assert.True(header.Tensors[1].Offset > int.MaxValue);
                var big = tensors["student.big"];
                Assert.Equal(new[] { count }, big.shape);
                Assert.Equal(-1f, big[0].item<float>());
                Assert.Equal(-2f, big[(1L << 29) - 1].item<float>());
                Assert.Equal(-3f, big[count - 1].item<float>());
                Assert.Equal(count - 3, big.eq(1f).sum().item<long>());
                Assert.True(tensors["student.tail"].equal(arange(10, dtype: ScalarType.Float32)).all().item<bool>());
            }
        }
        finally { Directory.Delete(run, recursive: true); }
    }
}
