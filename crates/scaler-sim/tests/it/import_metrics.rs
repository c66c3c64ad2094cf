//! `import prometheus`, `import cloudwatch`, `import csv`.
