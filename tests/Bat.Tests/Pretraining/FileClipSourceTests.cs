using Bat.Pretraining;
using static TorchSharp.torch;

namespace Bat.Tests.Pretraining;

public class FileClipSourceTests
{
    [Fact]
    public void StreamedClipsEqualTheInMemoryOnesAndLeaveNoFileBehind()
    {
        using var scope = NewDisposeScope();
        var folder = Directory.CreateTempSubdirectory("bat-clips-").FullName;
        try
        {
            manual_seed(8);
            var all = randn(37, 1, 32, 16);
            long[] clipShape = [1, 32, 16];
            using var streamed = FileClipSource.Create([all[..16], all[16..32], all[32..]], clipShape, folder);
            Assert.Empty(Directory.GetFiles(folder));   // unlinked at once: a crash leaves nothing
            var memory = new TensorClipSource(all);
            Assert.Equal(37, streamed.Count);
            int[] indices = [36, 0, 17, 17, 5];
            Assert.True(streamed.Load(indices).equal(memory.Load(indices)).all().item<bool>());
            Assert.Throws<ArgumentOutOfRangeException>(() => streamed.Load([37]));
            Assert.Throws<ArgumentException>(() => FileClipSource.Create([zeros(2, 1, 32, 15)], clipShape, folder));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
