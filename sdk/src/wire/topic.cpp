// dfd wire library: placeholder of the issue-15 contract commit; replaced by its slice.
namespace dfd::wire {}
