"""Pre-render the skill's voice into audio/: the same as ``breathing-room build-audio``.

    python scripts/build_audio.py [--engine gtts|espeak] [--locale en-US] [--only breathing]
                                  [--all] [--force] [--dry-run]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skill.render.build import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
