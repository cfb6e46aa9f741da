"""Course pages: their LTI part (organization and activities), placements, views and framing."""
