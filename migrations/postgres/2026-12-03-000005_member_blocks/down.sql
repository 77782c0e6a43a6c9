DROP TABLE member_blocks;
